/* conformance.h — the bpf_conformance suite's .data files, for the tests that run them. */
#ifndef T_CONFORMANCE_H
#define T_CONFORMANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

struct conf_case {
	char name[128];
	char *asm_text;		/* "-- asm" */
	unsigned char mem[4096];
	size_t mem_len;
	uint64_t result;
	bool has_result, expect_error;
	uint64_t raw[64];	/* "-- raw": expected encoding, one slot per line */
	size_t nraw;
};

/* The whole file, NUL-terminated (malloc'd), or NULL. */
char *conf_slurp(const char *path);

/* Split a .data file into its sections; asm_text (malloc'd) is never NULL after. */
bool conf_parse(const char *path, struct conf_case *c);

/* The suite's helper 5 ("conformance_helper"): returns r1. */
uint64_t conf_helper_5(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		       struct bpfrt_run *run);

#endif /* T_CONFORMANCE_H */
