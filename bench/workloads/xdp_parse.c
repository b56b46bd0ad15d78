/* xdp_parse.c — workload: an XDP-style Ethernet/VLAN/IPv4/TCP/UDP parse of 64 packets, bounds-checked against data_end. */
#include "workload.h"
#include "xdp_parse.h"

static __always_inline u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static __always_inline u32 mix(u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

/*
 * One packet, as an XDP program parses it: every header is checked against
 * data_end before it is read. Returns a flow hash for TCP and UDP over
 * IPv4, or a small code saying where the parse stopped.
 */
static __always_inline u32 parse(const u8 *data, const u8 *end)
{
	const u8 *p = data + 14;
	u16 proto;
	u32 ihl, h;
	u8 l4;

	if (p > end)
		return 1;			/* runt */
	proto = be16(data + 12);
	if (proto == 0x8100 || proto == 0x88a8) {
		if (p + 4 > end)
			return 1;
		proto = be16(p + 2);
		p += 4;
	}
	if (proto != 0x0800)
		return 2 + (proto == 0x86dd);	/* not IPv4 (3: IPv6) */
	if (p + 20 > end)
		return 1;
	ihl = (p[0] & 0xf) * 4u;
	if (ihl < 20 || p + ihl > end)
		return 1;
	h = *(const u32 *)(p + 12) ^ mix(*(const u32 *)(p + 16));
	l4 = p[9];
	if (l4 != 6 && l4 != 17)
		return 4 + (l4 == 1);		/* other protocol (5: ICMP) */
	p += ihl;
	if (p + (l4 == 6 ? 20 : 8) > end)
		return 1;
	return mix(h ^ (u32)be16(p) << 16 ^ be16(p + 2) ^ (u32)l4 << 8);
}

/*
 * Input: 64 slots of 128 bytes: u32 frame length at 0, the frame at 10.
 * Returns the per-packet results, folded.
 */
WORKLOAD(xdp_parse)
{
	u64 acc = 0;

	for (u64 i = 0; i < XP_PACKETS && (i + 1) * XP_SLOT <= len; i++) {
		const u8 *slot = mem + i * XP_SLOT;
		u32 flen = *(const u32 *)slot;

		if (flen > XP_MAX_FRAME)
			flen = XP_MAX_FRAME;
		acc = acc * 31 + parse(slot + XP_FRAME, slot + XP_FRAME + flen);
	}
	return acc;
}
