/* map_elem.c — `bpfrt map update|lookup|delete|getnext|dump|push|pop|peek`: elements of pinned maps. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_cli.h"

static bool percpu(const struct cli_map *m)
{
	return m->info.type == BPFRT_MAP_PERCPU_HASH || m->info.type == BPFRT_MAP_PERCPU_ARRAY ||
	       m->info.type == BPFRT_MAP_LRU_PERCPU_HASH;
}

/* Bytes of a value as the user-space calls take it: every CPU's for per-CPU maps. */
static size_t value_bytes(const struct cli_map *m)
{
	size_t stride = (m->info.value_size + 7) & ~7u;

	return percpu(m) ? stride * m->info.ncpus : m->info.value_size;
}

struct elem_args {
	struct cli_map m;
	uint8_t *key, *value;
	bool has_key;
	uint64_t flags;
};

static void elem_free(struct elem_args *a)
{
	free(a->key);
	free(a->value);
	cli_map_close(&a->m);
}

/*
 * MAP, then the parts this command takes: "key DATA" (want_key: 2 = required,
 * 1 = optional), "value DATA" and an update flag (want_value), nothing else.
 */
static int parse(int argc, char **argv, const char *cmd, int want_key, bool want_value,
		 struct elem_args *a)
{
	size_t vb;
	int i = 0, ret;

	memset(a, 0, sizeof(*a));
	ret = cli_map_open(argc, argv, &i, &a->m);
	if (ret)
		return ret;
	vb = value_bytes(&a->m);
	a->key = calloc(1, a->m.info.key_size + 8);
	a->value = calloc(1, vb + 8);
	if (!a->key || !a->value)
		return cli_err("out of memory");
	if (want_key && a->m.info.key_size && i < argc && cli_is_kw(argv[i], "key")) {
		i++;
		ret = cli_parse_data(argc, argv, &i, "key", a->m.info.name, a->key,
				     a->m.info.key_size);
		if (ret)
			return ret;
		a->has_key = true;
	} else if (want_key == 2 && a->m.info.key_size) {
		return cli_usage_err("map %s: expected 'key DATA' (%u bytes) after MAP", cmd,
				     a->m.info.key_size);
	}
	if (want_value) {
		if (i >= argc || !cli_is_kw(argv[i], "value"))
			return cli_usage_err("map %s: expected 'value DATA' (%u bytes)", cmd,
					     a->m.info.value_size);
		i++;
		ret = cli_parse_data(argc, argv, &i, "value", a->m.info.name, a->value,
				     a->m.info.value_size);
		if (ret)
			return ret;
		/* As bpftool: a per-CPU map's value is set on every CPU. */
		for (unsigned c = 1; percpu(&a->m) && c < a->m.info.ncpus; c++)
			memcpy(a->value + c * ((a->m.info.value_size + 7) & ~7u), a->value,
			       a->m.info.value_size);
		if (i < argc) {
			if (!strcmp(argv[i], "any"))
				a->flags = BPFRT_ANY;
			else if (!strcmp(argv[i], "noexist"))
				a->flags = BPFRT_NOEXIST;
			else if (!strcmp(argv[i], "exist"))
				a->flags = BPFRT_EXIST;
			else
				return cli_usage_err("map %s: unexpected '%s' (flags: any, exist, "
						     "noexist)", cmd, argv[i]);
			i++;
		}
	}
	if (i < argc)
		return cli_usage_err("map %s: unexpected '%s'", cmd, argv[i]);
	return 0;
}

static int done(void)
{
	if (cli.json) {
		json_null();
		json_finish();
	}
	return 0;
}

static int map_fail(const struct cli_map *m, const char *what, int ret)
{
	if (ret == -EPERM && bpfrt_map_frozen(m->map))
		return cli_err("%s map '%s': it is frozen", what, m->info.name);
	return cli_err("%s map '%s' (%s): %s", what, m->info.name, m->path, strerror(-ret));
}

int cmd_map_update(int argc, char **argv)
{
	struct elem_args a;
	int ret = parse(argc, argv, "update", 2, true, &a);

	if (!ret) {
		ret = bpfrt_map_update(a.m.map, a.m.info.key_size ? a.key : NULL, a.value, a.flags);
		ret = ret ? (ret == -EEXIST ? cli_err("key exists in map '%s' (noexist)", a.m.info.name)
				: ret == -ENOENT ? cli_err("key not in map '%s' (exist)", a.m.info.name)
				: map_fail(&a.m, "cannot update", ret))
			  : done();
	}
	elem_free(&a);
	return ret;
}

static int not_found(const struct elem_args *a)
{
	fputs("bpfrt: key ", stderr);
	for (uint32_t k = 0; k < a->m.info.key_size; k++)
		fprintf(stderr, "%s%02x", k ? " " : "", a->key[k]);
	fprintf(stderr, " not found in map '%s'\n", a->m.info.name);
	return 1;
}

int cmd_map_lookup(int argc, char **argv)
{
	struct elem_args a;
	int ret = parse(argc, argv, "lookup", 2, false, &a);

	if (!ret) {
		ret = bpfrt_map_lookup(a.m.map, a.m.info.key_size ? a.key : NULL, a.value);
		if (ret == -ENOENT) {
			ret = a.m.info.key_size ? not_found(&a)
						: cli_err("map '%s' is empty", a.m.info.name);
		} else if (ret) {
			ret = map_fail(&a.m, "cannot look up in", ret);
		} else {
			cli_print_elem(&a.m, a.key, a.value);
			if (cli.json)
				json_finish();
		}
	}
	elem_free(&a);
	return ret;
}

int cmd_map_delete(int argc, char **argv)
{
	struct elem_args a;
	int ret = parse(argc, argv, "delete", 2, false, &a);

	if (!ret) {
		ret = bpfrt_map_delete(a.m.map, a.key);
		ret = ret == -ENOENT ? not_found(&a) : ret ? map_fail(&a.m, "cannot delete from", ret)
							   : done();
	}
	elem_free(&a);
	return ret;
}

int cmd_map_getnext(int argc, char **argv)
{
	struct elem_args a;
	uint8_t *next;
	int ret = parse(argc, argv, "getnext", 1, false, &a);

	if (ret) {
		elem_free(&a);
		return ret;
	}
	next = calloc(1, a.m.info.key_size + 8);
	ret = next ? bpfrt_map_get_next_key(a.m.map, a.has_key ? a.key : NULL, next) : -ENOMEM;
	if (ret == -ENOENT) {
		ret = a.has_key ? cli_err("map '%s' has no key after this one", a.m.info.name)
				: cli_err("map '%s' is empty", a.m.info.name);
	} else if (ret) {
		ret = map_fail(&a.m, "cannot get the next key of", ret);
	} else if (cli.json) {
		json_begin_object();
		json_key("key");
		if (a.has_key)
			json_hex_bytes(a.key, a.m.info.key_size);
		else
			json_null();
		json_key("next_key");
		json_hex_bytes(next, a.m.info.key_size);
		json_end_object();
		json_finish();
	} else {
		printf("key:\n");
		if (a.has_key)
			cli_print_hex(a.key, a.m.info.key_size);
		else
			printf("None");
		printf("\nnext key:\n");
		cli_print_hex(next, a.m.info.key_size);
		putchar('\n');
	}
	free(next);
	elem_free(&a);
	return ret;
}

int cmd_map_dump(int argc, char **argv)
{
	struct elem_args a;
	uint8_t *next;
	unsigned n = 0, limit;
	int ret = parse(argc, argv, "dump", 0, false, &a);

	if (ret) {
		elem_free(&a);
		return ret;
	}
	if (!a.m.info.key_size) {
		ret = cli_err("map '%s' is a %s, which has no keys to dump; use peek or pop",
			      a.m.info.name, cli_map_type_name(a.m.info.type));
		elem_free(&a);
		return ret;
	}
	next = calloc(1, a.m.info.key_size + 8);
	if (!next) {
		elem_free(&a);
		return cli_err("out of memory");
	}
	/* Bounded: a map changing under us cannot make the walk endless. */
	limit = a.m.info.max_entries * 2u + 16;
	if (cli.json)
		json_begin_array();
	for (ret = bpfrt_map_get_next_key(a.m.map, NULL, next); ret == 0 && limit--;
	     ret = bpfrt_map_get_next_key(a.m.map, a.key, next)) {
		memcpy(a.key, next, a.m.info.key_size);
		if (bpfrt_map_lookup(a.m.map, a.key, a.value))
			continue;	/* deleted meanwhile */
		cli_print_elem(&a.m, a.key, a.value);
		n++;
	}
	if (cli.json) {
		json_end_array();
		json_finish();
	} else {
		printf("Found %u element%s\n", n, n == 1 ? "" : "s");
	}
	ret = ret == 0 || ret == -ENOENT ? 0 : map_fail(&a.m, "cannot walk", ret);
	free(next);
	elem_free(&a);
	return ret;
}

int cmd_map_push(int argc, char **argv)
{
	struct elem_args a;
	int ret = parse(argc, argv, "push", 0, true, &a);

	if (!ret && a.m.info.key_size)
		ret = cli_err("map '%s' is a %s: push is for queues, stacks and bloom filters "
			      "(use update)", a.m.info.name, cli_map_type_name(a.m.info.type));
	if (!ret) {
		ret = bpfrt_map_update(a.m.map, NULL, a.value, a.flags);
		ret = ret == -E2BIG ? cli_err("map '%s' is full", a.m.info.name)
		      : ret	    ? map_fail(&a.m, "cannot push to", ret)
				    : done();
	}
	elem_free(&a);
	return ret;
}

static int take(int argc, char **argv, const char *cmd, bool pop)
{
	struct elem_args a;
	int ret = parse(argc, argv, cmd, 0, false, &a);

	if (!ret && (a.m.info.key_size || a.m.info.type == BPFRT_MAP_BLOOM_FILTER ||
		     a.m.info.type == BPFRT_MAP_RINGBUF))
		ret = cli_err("map '%s' is a %s: %s is for queues and stacks", a.m.info.name,
			      cli_map_type_name(a.m.info.type), cmd);
	if (!ret) {
		ret = pop ? bpfrt_map_lookup_and_delete(a.m.map, NULL, a.value)
			  : bpfrt_map_lookup(a.m.map, NULL, a.value);
		if (ret == -ENOENT) {
			ret = cli_err("map '%s' is empty", a.m.info.name);
		} else if (ret) {
			ret = map_fail(&a.m, pop ? "cannot pop from" : "cannot peek at", ret);
		} else {
			cli_print_elem(&a.m, NULL, a.value);
			if (cli.json)
				json_finish();
		}
	}
	elem_free(&a);
	return ret;
}

int cmd_map_pop(int argc, char **argv)
{
	return take(argc, argv, "pop", true);
}

int cmd_map_peek(int argc, char **argv)
{
	return take(argc, argv, "peek", false);
}
