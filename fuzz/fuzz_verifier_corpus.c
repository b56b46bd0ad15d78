/* fuzz_verifier_corpus.c — libFuzzer target: the shared corpus's programs, mutated by the input; what the verifier accepts must run without a fault, read no uninitialised stack, and give the same on both engines. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "verifier_corpus.h"

/*
 * The uninitialised-read oracle compares runs over zeroed and unzeroed
 * stacks; ASan's fake stack (use-after-return detection) would hand each
 * run the same frame back, holding what the run before left there.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=0";
}

static struct vc_corpus corpus;

/* At exit (libFuzzer's -max_total_time ends with exit()): what the inputs became. */
static void print_stats(void)
{
	const struct vc_stats *s = &corpus.st;

	fprintf(stderr, "fuzz_verifier_corpus: %llu inputs: %llu invalid, %llu rejected, %llu "
		"accepted, %llu run (%llu depend on addresses, %llu call a helper bpfrt lacks, "
		"%llu over the run budget with callbacks, %llu inputs the test run refuses)\n",
		(unsigned long long)s->inputs, (unsigned long long)s->invalid,
		(unsigned long long)s->rejected, (unsigned long long)s->accepted,
		(unsigned long long)s->runs, (unsigned long long)s->addr_dependent,
		(unsigned long long)s->no_helper, (unsigned long long)s->over_budget,
		(unsigned long long)s->bad_input);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";

	(void)argc;
	(void)argv;
	if (vc_load(&corpus, dir)) {
		fprintf(stderr, "fuzz_verifier_corpus: no corpus at %s (set BPFRT_CORPUS)\n", dir);
		exit(1);
	}
	fprintf(stderr, "fuzz_verifier_corpus: %zu programs from %zu objects\n", corpus.nprogs,
		corpus.nobjs);
	atexit(print_stats);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vc_finding f;

	if (vc_one(&corpus, data, size, &f)) {
		fprintf(stderr, "verifier bug: %s", f.text);
		abort();
	}
	return 0;
}
