# Reads a stack slot nothing wrote: rejected.
ldxdw %r0, [%r10-8]
exit
