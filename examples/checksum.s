# checksum.s — the Internet checksum (RFC 1071) of the bytes at r1 (length r2).
# Run it:  build/bpfrt run examples/checksum.s data_in examples/packet.bin checked
# (checked: the loop compares a pointer with the end, which the verifier cannot use)
	mov %r0, 0            # running 32-bit sum
	mov %r3, %r1          # cursor
	mov %r4, %r1
	add %r4, %r2          # end of data
loop:
	mov %r5, %r3
	add %r5, 2
	jgt %r5, %r4, tail    # fewer than two bytes left
	ldxh %r6, [%r3]
	be16 %r6              # words are big-endian on the wire
	add %r0, %r6
	mov %r3, %r5
	ja loop
tail:
	jge %r3, %r4, fold    # an odd byte left over?
	ldxb %r6, [%r3]
	lsh %r6, 8
	add %r0, %r6
fold:
	mov %r6, %r0          # fold the carries back in
	rsh %r6, 16
	jeq %r6, 0, done
	and %r0, 0xffff
	add %r0, %r6
	ja fold
done:
	xor %r0, 0xffff
	exit
