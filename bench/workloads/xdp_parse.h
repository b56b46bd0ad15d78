/* xdp_parse.h — the xdp-parse workload's input layout, shared by the workload and the harness. */
#ifndef BENCH_XDP_PARSE_H
#define BENCH_XDP_PARSE_H

#define XP_PACKETS	64u	/* packets per run */
#define XP_SLOT		128u	/* bytes per packet slot */
#define XP_FRAME	10u	/* the frame's offset in its slot: 8 + 2, so IP is 4-aligned */
#define XP_MAX_FRAME	(XP_SLOT - XP_FRAME)

#endif /* BENCH_XDP_PARSE_H */
