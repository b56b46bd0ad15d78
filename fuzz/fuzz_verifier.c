/* fuzz_verifier.c — libFuzzer target: programs built from the input; what the verifier accepts
 * must run in the checked interpreter and JIT without a fault (a fault is a verifier bug), and
 * unchecked to the same result. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "maps/map.h"
#include "verifier_gen.h"

/* Processed instructions the verifier may spend on one input; instructions a checked run may execute. */
#define VERIFY_BUDGET 100000
#define RUN_BUDGET 1000000

/* Map 0: an array of one 16-byte value; map 1: a ring buffer. Each run starts from their first contents. */
static struct bpfrt_map *maps[2];
static uint8_t *snaps[2];
static struct bpfrt_xdp_frame *frame;

static void fail(const struct bpfrt_insn *insns, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
static void fail(const struct bpfrt_insn *insns, size_t n, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "verifier bug: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	for (size_t i = 0; i < n; i++) {
		char buf[128];
		bpfrt_disasm_insn(insns, n, i, buf, sizeof(buf));
		fprintf(stderr, "%3zu: %s\n", i, buf);
	}
	abort();
}

static size_t block_size(const struct bpfrt_map *m)
{
	return ((const struct map_block *)(const void *)m->base)->size;
}

static void setup(void)
{
	struct bpfrt_error err;
	BPFRT_OPTS(bpfrt_map_opts, ao, .type = BPFRT_MAP_ARRAY, .key_size = 4, .value_size = 16,
		   .max_entries = 1);
	BPFRT_OPTS(bpfrt_map_opts, ro, .type = BPFRT_MAP_RINGBUF, .max_entries = 4096);

	if (bpfrt_map_create(&ao, &maps[0], &err) || bpfrt_map_create(&ro, &maps[1], &err) ||
	    bpfrt_xdp_frame_alloc(&frame, &err))
		abort();
	for (int i = 0; i < 2; i++) {
		snaps[i] = malloc(block_size(maps[i]));
		if (!snaps[i])
			abort();
		memcpy(snaps[i], maps[i]->base, block_size(maps[i]));
	}
}

/* What a run gave: r0 and, for XDP, the packet it left. */
struct result {
	uint64_t r0;
	uint64_t pkt;	/* hash of the frame's packet */
};

/*
 * Run once, pad bytes deeper on the stack, from the same map contents and
 * (XDP) the same packet; the ctx and frame are static, so only the stack's
 * address differs between runs.
 */
static __attribute__((noinline)) int run_at(size_t pad, struct bpfrt_prog *prog,
					    enum bpfrt_prog_type type, int engine, bool checked,
					    const uint8_t *pkt, size_t pkt_len, struct result *r,
					    struct bpfrt_error *err)
{
	static uint8_t ctx[CTX_SIZE];
	volatile uint8_t *p = __builtin_alloca(pad + 16);
	int ret;

	p[0] = 0;
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 2; i++)
		memcpy(maps[i]->base, snaps[i], block_size(maps[i]));
	if (type == BPFRT_PROG_XDP) {
		BPFRT_OPTS(bpfrt_xdp_run_opts, xo, .engine = (enum bpfrt_engine)engine,
			   .checked = checked, .budget = RUN_BUDGET);
		if (bpfrt_xdp_frame_set(frame, pkt, pkt_len, err))
			abort();
		ret = bpfrt_xdp_run(prog, frame, &xo, err);
		if (ret >= 0) {
			r->r0 = frame->retval;
			r->pkt = frame->data_end - frame->data;
			for (uint32_t i = frame->data; i < frame->data_end; i++)
				r->pkt = r->pkt * 31 + frame->buf[i];
			ret = 0;
		}
	} else {
		memset(ctx, 0x5a, sizeof(ctx));
		BPFRT_OPTS(bpfrt_run_opts, ro, .engine = (enum bpfrt_engine)engine,
			   .checked = checked, .ctx = ctx, .ctx_len = sizeof(ctx),
			   .budget = RUN_BUDGET);
		ret = bpfrt_prog_run(prog, &ro, err);
		r->r0 = ro.retval;
	}
	__asm__ volatile("" : : "r"(p) : "memory");
	return ret;
}

/* Stack addresses must move with the stack: ASan's fake stack would keep them apart. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=0";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bpfrt_insn insns[MAXN];
	struct bpfrt_prog *prog;
	struct bpfrt_error err;
	enum bpfrt_prog_type type;
	size_t n = build_ext(data, size, insns, &type);
	uint8_t pkt[128];
	size_t pkt_len = 14 + (size ? data[size - 1] % 100 : 0);

	if (!maps[0])
		setup();
	for (size_t i = 0; i < sizeof(pkt); i++)	/* the packet: the input backwards */
		pkt[i] = i < size ? data[size - 1 - i] : (uint8_t)i;
	BPFRT_OPTS(bpfrt_prog_opts, po, .maps = maps, .nmaps = 2, .type = type);
	if (bpfrt_prog_new(insns, n, &po, &prog, &err))
		return 0;
	/*
	 * A budget far below the kernel's 1,000,000 processed instructions: a
	 * loop that runs out of it is refused in milliseconds instead of
	 * seconds (under ASan, near 1,000,000 an input outlived fuzz.sh's
	 * -timeout). Refusing more is sound; nothing accepted here needs more.
	 */
	BPFRT_OPTS(bpfrt_verify_opts, vo, .type = type, .ctx_size = CTX_SIZE,
		   .max_insns = VERIFY_BUDGET);
	int v = bpfrt_prog_verify(prog, &vo, &err);
	if (v == 0) {
		struct result r[2][3];	/* [engine][unchecked, checked, checked deeper] */
		bool addr[2];

		bpfrt_prog_use_builtin_helpers(prog);
		for (int engine = 0; engine < 2; engine++) {
			for (int k = 2; k >= 0; k--)
				if (run_at(k == 2 ? 1024 + 8 * (size % 64) : 0, prog, type, engine,
					   k != 0, pkt, pkt_len, &r[engine][k], &err))
					fail(insns, n, "accepted, but a %s %s run on engine %d: %s",
					     k ? "checked" : "unchecked", bpfrt_prog_type_name(type),
					     engine, err.msg);
			/* a result that moves with the stack is a pointer, which r0 may be */
			addr[engine] = memcmp(&r[engine][1], &r[engine][2], sizeof(r[0][0]));
			if (!addr[engine] && memcmp(&r[engine][0], &r[engine][1], sizeof(r[0][0])))
				fail(insns, n, "engine %d: unchecked r0 %#llx packet %#llx, checked "
				     "r0 %#llx packet %#llx", engine,
				     (unsigned long long)r[engine][0].r0,
				     (unsigned long long)r[engine][0].pkt,
				     (unsigned long long)r[engine][1].r0,
				     (unsigned long long)r[engine][1].pkt);
		}
		if (!addr[0] && !addr[1] && memcmp(&r[0][1], &r[1][1], sizeof(r[0][0])))
			fail(insns, n, "interpreter r0 %#llx packet %#llx, JIT r0 %#llx packet %#llx",
			     (unsigned long long)r[0][1].r0, (unsigned long long)r[0][1].pkt,
			     (unsigned long long)r[1][1].r0, (unsigned long long)r[1][1].pkt);
	} else if (!err.msg[0]) {
		abort();	/* a rejection must say why */
	}
	bpfrt_prog_free(prog);
	return 0;
}
