/* test_conformance.c — the bpf_conformance suite: assembler encodings, and results
 * through the plugin protocol and the library, on both engines in both safety modes. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfrt.h"
#include "conformance.h"
#include "t.h"

static void hexify(const void *p, size_t len, char *out, const char *sep)
{
	const unsigned char *b = p;

	out[0] = '\0';
	for (size_t i = 0; i < len; i++)
		out += sprintf(out, "%02x%s", b[i], sep);
}

/* Run through the plugin's protocol, as bpf_conformance would. */
static int run_plugin(const struct conf_case *c, const struct bpfrt_insn *insns,
		      size_t n, const char *engine, uint64_t *r0)
{
	char *mem_hex = malloc(c->mem_len * 3 + 1);
	char *prog_hex = malloc(n * 16 + 2);
	char cmd[9000], tmp[] = "/tmp/bpfrt-conf-XXXXXX", out[64] = "";
	FILE *p;
	int fd, status;

	hexify(c->mem, c->mem_len, mem_hex, " ");
	hexify(insns, n * sizeof(*insns), prog_hex, "");
	fd = mkstemp(tmp);
	if (fd < 0 || write(fd, prog_hex, strlen(prog_hex)) < 0 || write(fd, "\n", 1) < 0)
		abort();
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s/bpfrt_plugin '%s' %s < %s 2>/dev/null",
		 t_builddir(), mem_hex, engine, tmp);
	p = popen(cmd, "r");
	if (!p || !fgets(out, sizeof(out), p))
		out[0] = '\0';
	status = p ? pclose(p) : -1;
	unlink(tmp);
	free(mem_hex);
	free(prog_hex);
	if (status != 0 || !out[0])
		return -1;
	*r0 = strtoull(out, NULL, 16);
	return 0;
}

static int run_lib(const struct conf_case *c, const struct bpfrt_insn *insns,
		   size_t n, enum bpfrt_engine engine, bool checked, uint64_t *r0,
		   struct bpfrt_error *err)
{
	BPFRT_OPTS(bpfrt_run_opts, opts, .engine = engine, .checked = checked);
	unsigned char mem[4096];
	struct bpfrt_prog *prog;
	int ret;

	memcpy(mem, c->mem, c->mem_len);
	ret = bpfrt_prog_new(insns, n, NULL, &prog, err);
	if (ret)
		return ret;
	bpfrt_prog_set_helper(prog, 5, "conformance_helper", conf_helper_5);
	opts.ctx = c->mem_len ? mem : NULL;
	opts.ctx_len = c->mem_len;
	ret = bpfrt_prog_run(prog, &opts, err);
	*r0 = opts.retval;
	bpfrt_prog_free(prog);
	return ret;
}

/* assembled.tsv: name, cpu, groups, mem, result, error, program hex, slots, -. */
static const char *expected_hex(const char *tsv, const char *name, char *buf, size_t len)
{
	size_t nl = strlen(name);

	for (const char *p = tsv; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *f = p;

		if (strncmp(p, name, nl) || p[nl] != '\t')
			continue;
		for (int col = 0; col < 6 && f; col++)
			f = strchr(f, '\t') ? strchr(f, '\t') + 1 : NULL;
		if (!f)
			return NULL;
		size_t l = strcspn(f, "\t\n");
		if (l >= len)
			return NULL;
		memcpy(buf, f, l);
		buf[l] = '\0';
		return buf;
	}
	return NULL;
}

static const char *const engine_names[4] = {
	"interp unchecked", "interp checked", "jit unchecked", "jit checked",
};

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

TEST(conformance)
{
	char dir[512], path[1024], hexbuf[8192], want[8192];
	char *names[1024], *tsv;
	size_t nnames = 0;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/conformance", t_datadir());
	snprintf(path, sizeof(path), "%s/assembled.tsv", dir);
	tsv = conf_slurp(path);
	d = opendir(dir);
	if (!CHECK(d && tsv, "conformance data missing in %s", dir))
		return;
	while ((e = readdir(d)) && nnames < 1024)
		if (strstr(e->d_name, ".data"))
			names[nnames++] = strdup(e->d_name);
	closedir(d);
	qsort(names, nnames, sizeof(*names), cmp_names);
	CHECK(nnames == 313, "expected 313 conformance tests, found %zu", nnames);

	for (size_t i = 0; i < nnames; i++) {
		struct conf_case *c = calloc(1, sizeof(*c));
		struct bpfrt_insn *insns = NULL;
		struct bpfrt_error err;
		size_t n = 0;
		uint64_t r0 = 0;
		int ret;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (!CHECK(conf_parse(path, c), "%s: unreadable", names[i]))
			goto next;
		ret = bpfrt_asm(c->asm_text, &insns, &n, &err);
		if (!CHECK(ret == 0, "%s: assembler: %s", names[i], err.msg))
			goto next;
		/* The encoding must match the suite's own assembler, bit for bit. */
		hexify(insns, n * sizeof(*insns), hexbuf, "");
		if (expected_hex(tsv, names[i], want, sizeof(want)))
			CHECK(!strcmp(hexbuf, want), "%s: encoding\n  got  %s\n  want %s",
			      names[i], hexbuf, want);
		if (c->nraw) {
			CHECK(c->nraw == n && !memcmp(c->raw, insns, n * 8),
			      "%s: encoding differs from its raw section", names[i]);
		}
		for (int mode = 0; mode < 4; mode++) {
			enum bpfrt_engine engine = mode < 2 ? BPFRT_ENGINE_INTERP
							    : BPFRT_ENGINE_JIT;
			bool checked = mode & 1;
			const char *what = engine_names[mode];

			ret = run_lib(c, insns, n, engine, checked, &r0, &err);
			if (c->expect_error) {
				CHECK(ret != 0, "%s (%s): should fail", names[i], what);
				continue;
			}
			CHECK(ret == 0 && r0 == c->result,
			      "%s (%s): got %#llx (%s), want %#llx", names[i], what,
			      (unsigned long long)r0, ret ? err.msg : "ok",
			      (unsigned long long)c->result);
		}
		if (c->expect_error)
			goto next;
		for (int k = 0; k < 2; k++) {
			ret = run_plugin(c, insns, n, k ? "--jit" : "--interpret", &r0);
			CHECK(ret == 0 && r0 == c->result,
			      "%s (plugin%s): got %#llx, want %#llx%s", names[i],
			      k ? " --jit" : "", (unsigned long long)r0,
			      (unsigned long long)c->result, ret ? " (plugin failed)" : "");
		}
next:
		free(insns);
		free(c->asm_text);
		free(c);
		free(names[i]);
	}
	free(tsv);
}
