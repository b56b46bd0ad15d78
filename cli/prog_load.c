/* prog_load.c — `bpfrt prog load OBJ PATH [type TYPE] [pinmaps DIR]` and `bpfrt prog pin PROG FILE`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prog_cli.h"

/* bpftool's `prog load ... type` names (section-like), besides the types' own names. */
static const struct {
	const char *name;
	enum bpfrt_prog_type type;
} type_aliases[] = {
	{ "socket", BPFRT_PROG_SOCKET_FILTER }, { "kprobe", BPFRT_PROG_KPROBE },
	{ "kretprobe", BPFRT_PROG_KPROBE }, { "uprobe", BPFRT_PROG_KPROBE },
	{ "uretprobe", BPFRT_PROG_KPROBE }, { "classifier", BPFRT_PROG_SCHED_CLS },
	{ "tc", BPFRT_PROG_SCHED_CLS }, { "action", BPFRT_PROG_SCHED_ACT },
	{ "raw_tracepoint", BPFRT_PROG_RAW_TRACEPOINT }, { "cgroup/skb", BPFRT_PROG_CGROUP_SKB },
	{ "cgroup/sock", BPFRT_PROG_CGROUP_SOCK }, { "cgroup/dev", BPFRT_PROG_CGROUP_DEVICE },
	{ "lwt_in", BPFRT_PROG_LWT_IN }, { "lwt_out", BPFRT_PROG_LWT_OUT },
	{ "lwt_xmit", BPFRT_PROG_LWT_XMIT }, { "lwt_seg6local", BPFRT_PROG_LWT_SEG6LOCAL },
	{ "sockops", BPFRT_PROG_SOCK_OPS }, { "sk_skb", BPFRT_PROG_SK_SKB },
	{ "sk_msg", BPFRT_PROG_SK_MSG }, { "lirc_mode2", BPFRT_PROG_LIRC_MODE2 },
	{ "flow_dissector", BPFRT_PROG_FLOW_DISSECTOR }, { "syscall", BPFRT_PROG_SYSCALL },
	{ "sk_lookup", BPFRT_PROG_SK_LOOKUP }, { "struct_ops", BPFRT_PROG_STRUCT_OPS },
	{ "fentry", BPFRT_PROG_TRACING }, { "fexit", BPFRT_PROG_TRACING },
	{ "freplace", BPFRT_PROG_EXT }, { "lsm", BPFRT_PROG_LSM },
};

int cli_prog_type_parse(const char *name)
{
	for (int t = 0; t <= BPFRT_PROG_NETFILTER; t++)
		if (!strcmp(name, bpfrt_prog_type_name((enum bpfrt_prog_type)t)))
			return t;
	for (size_t k = 0; k < sizeof(type_aliases) / sizeof(type_aliases[0]); k++)
		if (!strcmp(name, type_aliases[k].name))
			return (int)type_aliases[k].type;
	fprintf(stderr, "bpfrt: '%s' is not a program type; types:", name);
	for (int t = 1; t <= BPFRT_PROG_NETFILTER; t++)
		fprintf(stderr, "%s %s", t > 1 ? "," : "", bpfrt_prog_type_name((enum bpfrt_prog_type)t));
	fputc('\n', stderr);
	return -1;
}

/*
 * As bpftool: the object's first program is loaded (type TYPE if given),
 * its maps are shared through DIR (default: PATH.maps beside the record)
 * and a record of it is pinned at PATH.
 */
int cmd_prog_load(int argc, char **argv)
{
	const char *objpath, *path, *dir = NULL;
	char defdir[4200];
	struct bpfrt_error err;
	struct bpfrt_obj *obj;
	int type = -1, ret;

	if (argc < 2)
		return cli_usage_err("prog load: expected OBJ PATH [type TYPE] [pinmaps DIR]");
	objpath = argv[0];
	path = argv[1];
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			return cli_usage_err("prog load: '%s' needs a value", argv[i]);
		if (cli_is_kw(argv[i], "type")) {
			if ((type = cli_prog_type_parse(argv[i + 1])) < 0)
				return 2;
		} else if (cli_is_kw(argv[i], "pinmaps")) {
			dir = argv[i + 1];
		} else {
			return cli_usage_err("prog load: unexpected '%s'", argv[i]);
		}
	}
	if (!dir) {
		snprintf(defdir, sizeof(defdir), "%s.maps", path);
		dir = defdir;
	}
	ret = bpfrt_obj_open(objpath, NULL, &obj, &err);
	if (ret)
		return cli_err("%s", err.msg);
	if (bpfrt_obj_prog_count(obj) == 0) {
		bpfrt_obj_close(obj);
		return cli_err("'%s' has no programs", objpath);
	}
	for (size_t k = 0; k < bpfrt_obj_prog_count(obj); k++)
		bpfrt_obj_prog_set_autoload(obj, k, k == 0);
	if (type >= 0)
		bpfrt_obj_prog_set_type(obj, 0, (enum bpfrt_prog_type)type);
	ret = bpfrt_obj_pin_maps(obj, dir, &err);
	if (!ret)
		ret = bpfrt_obj_load(obj, &err);
	if (!ret)
		ret = bpfrt_obj_pin_prog(obj, 0, path, &err);
	bpfrt_obj_close(obj);
	if (ret)
		return cli_err("prog load: %s", err.msg);
	if (cli.json) {
		json_null();
		json_finish();
	}
	return 0;
}

int cmd_prog_pin(int argc, char **argv)
{
	struct bpfrt_error err;
	struct cli_prog p;
	int i = 0, ret = cli_prog_find(argc, argv, &i, &p);

	if (ret)
		return ret;
	if (i + 1 != argc)
		return cli_usage_err("prog pin: expected PROG FILE");
	if (bpfrt_prog_record_pin(p.path, argv[i], &err))
		return cli_err("%s", err.msg);
	if (cli.json) {
		json_null();
		json_finish();
	}
	return 0;
}
