/* test_verifier_corpus.c — the verifier on the shared corpus: the kernel's verdicts must be ours. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfrt.h"
#include "t.h"

struct krow {
	char project[32], object[64], section[96], type[32], verdict[64];
	unsigned insns, processed, time_us;
};

static struct krow *read_rows(const char *dir, size_t *n)
{
	char path[512], line[4096];
	struct krow *v = NULL;
	FILE *f;

	*n = 0;
	snprintf(path, sizeof(path), "%s/kernel_verdicts.tsv", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		struct krow r;
		struct krow *nv;

		memset(&r, 0, sizeof(r));
		if (sscanf(line, "%31[^\t]\t%63[^\t]\t%95[^\t]\t%31[^\t]\t%63[^\t]\t%u\t%u\t%u",
			   r.project, r.object, r.section, r.type, r.verdict, &r.insns,
			   &r.processed, &r.time_us) != 8 ||
		    !(nv = realloc(v, (*n + 1) * sizeof(*v))))
			continue;
		v = nv;
		v[(*n)++] = r;
	}
	if (f)
		fclose(f);
	return v;
}

static enum bpfrt_prog_type type_by_name(const char *name)
{
	for (int t = 0; t <= BPFRT_PROG_NETFILTER; t++)
		if (!strcmp(bpfrt_prog_type_name((enum bpfrt_prog_type)t), name))
			return (enum bpfrt_prog_type)t;
	return BPFRT_PROG_UNSPEC;
}

/* Verify the program of obj in section sec as type; 0 or the error. */
static int verify_section(struct bpfrt_obj *obj, const char *sec, enum bpfrt_prog_type type,
			  struct bpfrt_verify_opts *o, struct bpfrt_error *err)
{
	for (size_t i = 0; i < bpfrt_obj_prog_count(obj); i++) {
		struct bpfrt_obj_prog_info info;

		bpfrt_obj_prog_at(obj, i, &info);
		if (strcmp(info.section, sec))
			continue;
		o->obj = obj;
		o->prog_index = i;
		o->type = type;
		return bpfrt_prog_verify(NULL, o, err);
	}
	snprintf(err->msg, sizeof(err->msg), "no program in section %s", sec);
	return -2;
}

/*
 * Each program is verified RUNS times and the fastest time is shown (a
 * shared machine's noise only ever adds); the counts are the same each run.
 */
#define RUNS 5

TEST(verifier_corpus)
{
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";
	unsigned agree = 0, total = 0, faster = 0;
	uint64_t our_ns = 0, kern_us = 0, our_insns = 0, kern_insns = 0, mem_max = 0, mem_sum = 0;
	char mem_name[200] = "";
	size_t n;
	struct krow *rows = read_rows(dir, &n);

	if (!rows || !n) {
		printf("verifier_corpus: skipped: no corpus at %s (set BPFRT_CORPUS)\n", dir);
		free(rows);
		return;
	}
	printf("verifier_corpus: %-52s %-10s %-9s %7s %7s %6s %7s %8s %7s\n", "program", "kernel",
	       "bpfrt", "insns", "k.insns", "states", "mem.KB", "us", "k.us");
	for (size_t k = 0; k < n; k++) {
		struct krow *r = &rows[k];
		struct bpfrt_obj *obj = NULL;
		struct bpfrt_error err;
		char path[1024], name[200];
		uint64_t best_ns = UINT64_MAX;
		int ret = 0;

		snprintf(path, sizeof(path), "%s/%s/%s", dir, r->project, r->object);
		snprintf(name, sizeof(name), "%s/%s", r->object, r->section);
		ret = bpfrt_obj_open(path, NULL, &obj, &err);
		if (!CHECK(ret == 0, "%s does not open: %s", path, err.msg))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, o);
		for (int run = 0; run < RUNS; run++) {
			BPFRT_OPTS(bpfrt_verify_opts, once);
			memset(&err, 0, sizeof(err));
			ret = verify_section(obj, r->section, type_by_name(r->type), &once, &err);
			if (once.time_ns < best_ns)
				best_ns = once.time_ns;
			o = once;
		}
		bool accepted = ret == 0;
		bool want = !strcmp(r->verdict, "accepted");
		bool ok = accepted == want;
		total++;
		agree += ok;
		our_ns += best_ns;
		kern_us += r->time_us;
		our_insns += o.insns_processed;
		kern_insns += r->processed;
		faster += best_ns / 1000 <= r->time_us;
		mem_sum += o.peak_mem_bytes;
		if (o.peak_mem_bytes > mem_max) {
			mem_max = o.peak_mem_bytes;
			snprintf(mem_name, sizeof(mem_name), "%s", name);
		}
		printf("verifier_corpus: %-52.52s %-10.10s %-9s %7llu %7u %6llu %7.1f %8.1f %7u\n", name,
		       r->verdict, accepted ? "accepted" : "rejected",
		       (unsigned long long)o.insns_processed, r->processed,
		       (unsigned long long)o.states, o.peak_mem_bytes / 1024.0, best_ns / 1000.0,
		       r->time_us);
		if (want)
			CHECK(accepted, "%s: the kernel accepts it, bpfrt rejects it: %s", name, err.msg);
		else
			CHECK(!accepted, "%s: the kernel rejects it (%s), bpfrt accepts it", name,
			      r->verdict);
		if (!want && !accepted && !strncmp(r->verdict, "env:helper_unavailable", 22))
			CHECK(strstr(err.msg, "cannot use helper"), "%s: rejected for another reason: %s",
			      name, err.msg);
		if (!want && !accepted && !strcmp(r->verdict, "uninit"))
			CHECK(strstr(err.msg, "uninit") || strstr(err.msg, "!read_ok") ||
			      strstr(err.msg, "never written"), "%s: rejected for another reason: %s",
			      name, err.msg);
		/*
		 * Pruning (precision, stack liveness) keeps the instructions
		 * followed in the kernel's order: a count far above the kernel's
		 * is a pruning regression (counts, unlike times, do not vary).
		 */
		if (accepted && want)
			CHECK(o.insns_processed <= 2 * (uint64_t)r->processed + 100,
			      "%s: %llu instructions processed, the kernel %u: pruning regressed",
			      name, (unsigned long long)o.insns_processed, r->processed);
		if (!ok || (!accepted && getenv("BPFRT_VERBOSE")))
			printf("verifier_corpus:   %s\n", err.msg);
		bpfrt_obj_close(obj);
	}
	printf("verifier_corpus: %u of %u verdicts agree with the kernel\n", agree, total);
	printf("verifier_corpus: time: bpfrt %.1f ms in all, the kernel %.1f ms; bpfrt at or below "
	       "the kernel's time on %u of %u\n", our_ns / 1e6, kern_us / 1e3, faster, total);
	printf("verifier_corpus: instructions processed: bpfrt %llu, the kernel %llu\n",
	       (unsigned long long)our_insns, (unsigned long long)kern_insns);
	printf("verifier_corpus: peak memory: %.1f KB at most (%s), %.1f KB on average\n",
	       mem_max / 1024.0, mem_name, total ? mem_sum / 1024.0 / total : 0.0);
	free(rows);
}
