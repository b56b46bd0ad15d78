/* prog_show.c — `bpfrt prog show [PROG]`, `prog dump xlated PROG [linum] [opcodes]`, `prog dump jited PROG`. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "prog_cli.h"

/* ---- PROG ------------------------------------------------------------------- */

struct pfind {
	bool by_id;
	uint32_t id;
	const char *name;
	char path[4096];
	uint32_t found_id;
	int found;
};

static int pfind_one(void *ctx, const char *path)
{
	struct pfind *f = ctx;
	struct bpfrt_prog_record r;

	if (bpfrt_prog_record_read(path, &r, NULL))
		return 0;
	if (f->by_id ? r.id != f->id : strcmp(r.name, f->name))
		return 0;
	if (f->found && r.id == f->found_id)
		return 0;	/* the same program pinned twice */
	if (!f->found++) {
		f->found_id = r.id;
		snprintf(f->path, sizeof(f->path), "%s", path);
	}
	return 0;
}

int cli_prog_find(int argc, char **argv, int *i, struct cli_prog *p)
{
	struct bpfrt_error err;
	struct pfind f = { 0 };
	const char *kw, *arg;

	memset(p, 0, sizeof(*p));
	if (*i + 1 >= argc)
		return cli_usage_err("expected PROG (pinned FILE | name NAME | id N)");
	kw = argv[*i];
	arg = argv[*i + 1];
	*i += 2;
	if (cli_is_kw(kw, "pinned")) {
		snprintf(p->path, sizeof(p->path), "%s", arg);
	} else if (cli_is_kw(kw, "id") || cli_is_kw(kw, "name")) {
		char *end;

		f.by_id = kw[0] == 'i';
		f.name = arg;
		if (f.by_id) {
			unsigned long v = strtoul(arg, &end, 0);

			if (!*arg || *end || v == 0 || v > UINT32_MAX)
				return cli_usage_err("'%s' is not a program id", arg);
			f.id = (uint32_t)v;
		}
		bpfrt_pinned_progs(pfind_one, &f);
		if (!f.found)
			return cli_err("no program with %s %s in the state directory '%s'",
				       f.by_id ? "id" : "name", arg, bpfrt_state_dir());
		if (f.found > 1)
			return cli_err("%d programs are named '%s': give its id or pinned path",
				       f.found, arg);
		snprintf(p->path, sizeof(p->path), "%s", f.path);
	} else {
		return cli_usage_err("expected PROG (pinned FILE | name NAME | id N), got '%s'", kw);
	}
	if (bpfrt_prog_record_read(p->path, &p->rec, &err))
		return cli_err("%s", err.msg);
	return 0;
}

/* ---- show ----------------------------------------------------------------------- */

/* One program: the files it is pinned at, and the processes running it (live records). */
static void show_one(const struct bpfrt_prog_record *r, char *const *paths, size_t npaths,
		     const int32_t *pids, size_t npids)
{
	char when[64];
	time_t t = (time_t)r->loaded_at;
	struct tm tm;

	if (cli.json) {
		json_begin_object();
		json_key("id");
		json_u64(r->id);
		json_key("type");
		json_string(bpfrt_prog_type_name(r->type));
		json_key("name");
		json_string(r->name);
		json_key("tag");
		json_string(r->tag);
		json_key("gpl_compatible");
		json_bool(r->gpl);
		json_key("loaded_at");
		json_u64(r->loaded_at);
		json_key("uid");
		json_u64(r->uid);
		json_key("bytes_xlated");
		json_u64(r->bytes_xlated);
		json_key("jited");
		json_bool(r->bytes_jited > 0);
		json_key("bytes_jited");
		json_u64(r->bytes_jited);
		json_key("map_ids");
		json_begin_array();
		for (uint32_t k = 0; k < r->nmap_ids; k++)
			json_u64(r->map_ids[k]);
		json_end_array();
		json_key("object");
		json_string(r->object);
		json_key("pinmaps");
		json_string(r->maps_dir);
		cli_show_pinned(paths, npaths);
		if (npids) {
			json_key("pids");
			json_begin_array();
			for (size_t k = 0; k < npids; k++) {
				json_begin_object();
				json_key("pid");
				json_i64(pids[k]);
				json_end_object();
			}
			json_end_array();
		}
		json_end_object();
		return;
	}
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", &tm);
	printf("%u: %s  name %s  tag %s%s\n", r->id, bpfrt_prog_type_name(r->type), r->name,
	       r->tag, r->gpl ? "  gpl" : "");
	printf("\tloaded_at %s  uid %u\n", when, r->uid);
	printf("\txlated %uB", r->bytes_xlated);
	if (r->bytes_jited)
		printf("  jited %uB", r->bytes_jited);
	else
		printf("  not jited");
	for (uint32_t k = 0; k < r->nmap_ids; k++)
		printf("%s%u", k ? "," : "  map_ids ", r->map_ids[k]);
	printf("\n\tobject %s\n", r->object);
	if (r->maps_dir[0])
		printf("\tpinmaps %s\n", r->maps_dir);
	cli_show_pinned(paths, npaths);
	for (size_t k = 0; k < npids; k++)
		printf("%s%d", k ? "," : "\tpids ", (int)pids[k]);
	if (npids)
		putchar('\n');
}

static int pcollect(void *ctx, const char *path)
{
	struct bpfrt_prog_record r;

	if (bpfrt_prog_record_read(path, &r, NULL))
		return 0;
	return cli_pin_list_add(ctx, r.id, r.pid, path);
}

int cmd_prog_show(int argc, char **argv)
{
	struct cli_pin_list l = { 0 };
	struct cli_prog p;
	int i = 0, ret;

	if (argc > 0) {
		ret = cli_prog_find(argc, argv, &i, &p);
		if (ret)
			return ret;
		if (i < argc)
			return cli_usage_err("prog show: unexpected '%s'", argv[i]);
		char *path = p.path;
		int32_t pid = p.rec.pid;

		show_one(&p.rec, &path, pid ? 0 : 1, &pid, pid ? 1 : 0);
		if (cli.json)
			json_finish();
		return 0;
	}
	if (bpfrt_pinned_progs(pcollect, &l))
		return cli_err("cannot list the programs of '%s'", bpfrt_state_dir());
	cli_pin_list_sort(&l);
	if (cli.json)
		json_begin_array();
	for (size_t k = 0; k < l.n;) {
		char *paths[64];
		int32_t pids[64];
		size_t np = 0, npid = 0, end = k;
		struct bpfrt_prog_record r;

		while (end < l.n && l.v[end].id == l.v[k].id) {
			if (l.v[end].pid && npid < 64)
				pids[npid++] = l.v[end].pid;
			else if (!l.v[end].pid && np < 64)
				paths[np++] = l.v[end].path;
			end++;
		}
		if (!bpfrt_prog_record_read(l.v[k].path, &r, NULL))
			show_one(&r, paths, np, pids, npid);
		k = end;
	}
	if (cli.json) {
		json_end_array();
		json_finish();
	}
	cli_pin_list_free(&l);
	return 0;
}

/* ---- dump ----------------------------------------------------------------------- */

static void print_line(const struct bpfrt_obj_line *ln, bool linum)
{
	const char *src = ln->src;

	while (*src == ' ' || *src == '\t')
		src++;
	if (cli.json) {
		json_key("src");
		json_string(src);
		if (linum) {
			json_key("file");
			json_string(ln->file);
			json_key("line_num");
			json_u64(ln->line);
			json_key("line_col");
			json_u64(ln->col);
		}
		return;
	}
	printf("; %s", src);
	if (linum)
		printf(" [file:%s line_num:%u line_col:%u]", ln->file, ln->line, ln->col);
	putchar('\n');
}

static int dump_xlated(struct bpfrt_obj *obj, int idx, struct bpfrt_prog *prog, bool linum,
		       bool opcodes)
{
	const struct bpfrt_insn *in = bpfrt_prog_insns(prog);
	size_t n = bpfrt_prog_insn_cnt(prog);
	struct bpfrt_obj_line prev = { 0 };

	if (cli.json)
		json_begin_array();
	for (size_t i = 0; i < n;) {
		struct bpfrt_obj_line ln;
		char text[256];
		int w = bpfrt_disasm_insn(in, n, i, text, sizeof(text));
		bool new_line;

		if (w < 1)
			w = 1;
		new_line = !bpfrt_obj_prog_line(obj, (size_t)idx, i, &ln) &&
			   (ln.line != prev.line || ln.col != prev.col || ln.src != prev.src);
		if (cli.json) {
			json_begin_object();
			json_key("pc");
			json_u64(i);
			json_key("disasm");
			json_string(text);
			if (new_line)
				print_line(&ln, linum);
			if (opcodes) {
				json_key("opcodes");
				json_hex_bytes(&in[i], (size_t)w * sizeof(*in));
			}
			json_end_object();
		} else {
			if (new_line)
				print_line(&ln, linum);
			printf("%4zu: (%02x) %s\n", i, in[i].code, text);
			if (opcodes) {
				printf("       ");
				for (size_t b = 0; b < (size_t)w * sizeof(*in); b++)
					printf("%s%02x", b ? " " : "", ((const uint8_t *)&in[i])[b]);
				putchar('\n');
			}
		}
		if (new_line)
			prev = ln;
		i += (size_t)w;
	}
	if (cli.json) {
		json_end_array();
		json_finish();
	}
	return 0;
}

int cmd_prog_dump(int argc, char **argv)
{
	struct bpfrt_error err;
	struct bpfrt_obj *obj;
	struct bpfrt_prog *prog;
	struct cli_prog p;
	bool xlated, linum = false, opcodes = false;
	int i = 1, ret;

	if (argc < 1 || !(cli_is_kw(argv[0], "xlated") || cli_is_kw(argv[0], "jited")))
		return cli_usage_err("prog dump: expected xlated PROG [linum] [opcodes] | jited PROG");
	xlated = argv[0][0] == 'x';
	ret = cli_prog_find(argc, argv, &i, &p);
	if (ret)
		return ret;
	for (; i < argc; i++) {
		if (xlated && cli_is_kw(argv[i], "linum"))
			linum = true;
		else if (xlated && cli_is_kw(argv[i], "opcodes"))
			opcodes = true;
		else
			return cli_usage_err("prog dump: unexpected '%s'", argv[i]);
	}
	ret = bpfrt_prog_open_pinned(p.path, &obj, &prog, &err);
	if (ret)
		return cli_err("%s", err.msg);
	bpfrt_prog_use_builtin_helpers(prog);
	if (xlated)
		ret = dump_xlated(obj, bpfrt_obj_prog_find(obj, p.rec.name), prog, linum, opcodes);
	else
		ret = cli_print_jited(prog, false);
	bpfrt_obj_close(obj);
	return ret;
}
