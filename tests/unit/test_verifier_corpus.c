/* test_verifier_corpus.c — the verifier on the shared corpus: the kernel's verdicts must be ours. */
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

TEST(verifier_corpus)
{
	const char *dir = getenv("BPFRT_CORPUS") ? getenv("BPFRT_CORPUS") : "../shared/corpus";
	unsigned agree = 0, total = 0, faster = 0;
	uint64_t our_ns = 0, kern_us = 0;
	size_t n;
	struct krow *rows = read_rows(dir, &n);

	if (!rows || !n) {
		printf("verifier_corpus: skipped: no corpus at %s (set BPFRT_CORPUS)\n", dir);
		free(rows);
		return;
	}
	printf("verifier_corpus: %-52s %-10s %-9s %8s %8s %7s\n", "program", "kernel", "bpfrt",
	       "insns", "us", "k.us");
	for (size_t k = 0; k < n; k++) {
		struct krow *r = &rows[k];
		struct bpfrt_obj *obj = NULL;
		struct bpfrt_error err;
		char path[1024], name[200];
		int ret;

		snprintf(path, sizeof(path), "%s/%s/%s", dir, r->project, r->object);
		snprintf(name, sizeof(name), "%s/%s", r->object, r->section);
		ret = bpfrt_obj_open(path, NULL, &obj, &err);
		if (!CHECK(ret == 0, "%s does not open: %s", path, err.msg))
			continue;
		BPFRT_OPTS(bpfrt_verify_opts, o);
		memset(&err, 0, sizeof(err));
		ret = verify_section(obj, r->section, type_by_name(r->type), &o, &err);
		bool accepted = ret == 0;
		bool want = !strcmp(r->verdict, "accepted");
		bool ok = accepted == want;
		total++;
		agree += ok;
		our_ns += o.time_ns;
		kern_us += r->time_us;
		faster += o.time_ns / 1000 <= r->time_us;
		printf("verifier_corpus: %-52.52s %-10.10s %-9s %8llu %8.1f %7u\n", name, r->verdict,
		       accepted ? "accepted" : "rejected", (unsigned long long)o.insns_processed,
		       o.time_ns / 1000.0, r->time_us);
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
		if (!ok || (!accepted && getenv("BPFRT_VERBOSE")))
			printf("verifier_corpus:   %s\n", err.msg);
		bpfrt_obj_close(obj);
	}
	printf("verifier_corpus: %u of %u verdicts agree with the kernel; bpfrt took %.1f ms in "
	       "all, the kernel %.1f ms; bpfrt at or below the kernel's time on %u\n", agree, total,
	       our_ns / 1e6, kern_us / 1e3, faster);
	free(rows);
}
