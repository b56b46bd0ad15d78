# bpfrt's raw type: r1 points to r2 bytes; reading within ctx_size is safe.
ldxw %r0, [%r1+4]
exit
