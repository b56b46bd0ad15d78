/* switch.h — compare trees read as jump tables, for unchecked JIT code.
 *
 * clang turns a switch into a tree of `if rX op K goto` on one register
 * (eBPF has no indirect jump). jswitch_find evaluates such a tree for every
 * value between its smallest and largest constant and says where each one
 * ends up: the first instruction on its way that is not a compare of rX
 * with a constant, an unconditional jump, or a move of a constant (or of
 * rX itself) into another register (the moves on the way are recorded, so
 * they can be done before jumping there). A value below every constant takes the way the
 * constant less one takes, and above every constant the largest plus one.
 * When every value in the table goes on at the same slot, and only the
 * constants moved differ, the table holds those constants instead (clang's
 * switch-to-lookup-table, which its -fno-jump-tables eBPF code lacks): no
 * data-dependent jump at all.
 * Skipping the compares changes no register and no memory, but it does
 * change how many instructions run, so checked code (budgets) keeps them.
 */
#ifndef BPFRT_JIT_SWITCH_H
#define BPFRT_JIT_SWITCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

#define JSW_MAX_MOVS 4		/* constant moves one way may hold */
#define JSW_MAX_VALUES 1024	/* table entries */
#define JSW_MAX_NODES 512	/* compares in one tree */
#define JSW_MIN_NODES 6		/* fewer compares are cheaper as they are */

/* One way through the tree: the moves still live at its end, then where it goes on. */
struct jsw_path {
	uint32_t leaf;			/* slot where the code goes on */
	uint8_t nmov;
	uint32_t mov[JSW_MAX_MOVS];	/* slots of the moves, in order */
};

struct jswitch {
	uint32_t root;			/* the first compare */
	uint8_t reg;			/* the eBPF register compared */
	bool w64;			/* jmp (64-bit) or jmp32 (low halves) */
	bool sign;			/* the order: signed, or unsigned */
	uint64_t lo;			/* the first value in the table: the register
					   (64-bit), or its low half sign- or zero-
					   extended (jmp32, as `sign` says) */
	uint32_t count;			/* values lo .. lo + count - 1 */
	bool has_below, has_above;	/* values outside the table exist */
	uint32_t *entry;		/* count + 2: path of each value, then of
					   those below and of those above */
	struct jsw_path *paths;
	uint32_t npaths;
	uint32_t nodes;			/* compares in the tree */
	/* a table of values: every value in it goes on at `leaf` */
	bool values;
	uint32_t leaf;
	uint8_t nval;			/* registers set on the way */
	uint8_t vreg[JSW_MAX_MOVS];	/* which */
	uint64_t *val;			/* [k * nval + r]: what value lo + k leaves in vreg[r] */
	/* jit.c's, per pass */
	uint32_t *label;		/* per path, UINT32_MAX if not needed */
	uint32_t tlabel[JSW_MAX_MOVS];	/* the table (values: per register) */
};

/*
 * Is insns[root] (a validated program of n slots) the first compare of a tree
 * worth a table? If so fill sw (free it with jswitch_free) and set node[s]
 * for every compare slot s in it; false if not, or out of memory.
 */
bool jswitch_find(const struct bpfrt_insn *insns, size_t n, size_t root,
		  struct jswitch *sw, uint8_t *node);
void jswitch_free(struct jswitch *sw);

#endif /* BPFRT_JIT_SWITCH_H */
