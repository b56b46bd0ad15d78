/* map_show.c — `bpfrt map show [MAP]` and `bpfrt map pin MAP FILE`: pinned maps as bpftool lists them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "map_cli.h"

static int collect(void *ctx, const char *path)
{
	struct bpfrt_map *map;
	struct bpfrt_map_pin_info pin;

	if (bpfrt_map_open_pinned(path, &map, NULL))
		return 0;
	bpfrt_map_get_pin_info(map, &pin);
	bpfrt_map_free(map);
	return cli_pin_list_add(ctx, pin.id, 0, path);
}

/* One map, with every path it is pinned at (paths[0..npaths)). */
static void show_one(const struct cli_map *m, char *const *paths, size_t npaths)
{
	const char *type = cli_map_type_name(m->info.type);

	if (cli.json) {
		json_begin_object();
		json_key("id");
		json_u64(m->pin.id);
		json_key("type");
		if (type)
			json_string(type);
		else
			json_u64(m->info.type);
		json_key("name");
		json_string(m->info.name);
		json_key("flags");
		json_u64(m->info.map_flags);
		json_key("bytes_key");
		json_u64(m->info.key_size);
		json_key("bytes_value");
		json_u64(m->info.value_size);
		json_key("max_entries");
		json_u64(m->info.max_entries);
		json_key("frozen");
		json_u64(bpfrt_map_frozen(m->map));
		json_key("uid");
		json_u64(m->pin.uid);
		json_key("pinned_at");
		json_u64(m->pin.created);
		json_key("btf");
		json_bool(cli_map_has_btf(m));
		cli_show_pinned(paths, npaths);
		json_end_object();
		return;
	}
	if (type)
		printf("%u: %s  name %s  flags 0x%x\n", m->pin.id, type, m->info.name,
		       m->info.map_flags);
	else
		printf("%u: type %u  name %s  flags 0x%x\n", m->pin.id, m->info.type, m->info.name,
		       m->info.map_flags);
	printf("\tkey %uB  value %uB  max_entries %u%s\n", m->info.key_size, m->info.value_size,
	       m->info.max_entries, bpfrt_map_frozen(m->map) ? "  frozen" : "");
	if (cli_map_has_btf(m))
		printf("\tbtf key type %u  value type %u\n", m->pin.key_type_id,
		       m->pin.value_type_id);
	cli_show_pinned(paths, npaths);
}

int cmd_map_show(int argc, char **argv)
{
	struct cli_pin_list l = { 0 };
	struct cli_map m;
	int i = 0, ret;

	if (argc > 0) {
		ret = cli_map_open(argc, argv, &i, &m);
		if (ret)
			return ret;
		if (i < argc) {
			cli_map_close(&m);
			return cli_usage_err("map show: unexpected '%s'", argv[i]);
		}
		char *path = m.path;

		show_one(&m, &path, 1);
		if (cli.json)
			json_finish();
		cli_map_close(&m);
		return 0;
	}
	ret = bpfrt_pinned_maps(collect, &l);
	if (ret)
		return cli_err("cannot list the maps of '%s'", bpfrt_state_dir());
	cli_pin_list_sort(&l);
	if (cli.json)
		json_begin_array();
	for (size_t k = 0; k < l.n;) {
		size_t end = k;
		char *paths[64];
		size_t np = 0;

		while (end < l.n && l.v[end].id == l.v[k].id) {
			if (np < 64)
				paths[np++] = l.v[end].path;
			end++;
		}
		int j = 0;
		char *args[] = { "pinned", l.v[k].path };

		if (cli_map_open(2, args, &j, &m) == 0) {
			show_one(&m, paths, np);
			cli_map_close(&m);
		}
		k = end;
	}
	if (cli.json) {
		json_end_array();
		json_finish();
	}
	cli_pin_list_free(&l);
	return 0;
}

int cmd_map_pin(int argc, char **argv)
{
	struct bpfrt_error err;
	struct cli_map m;
	int i = 0, ret;

	ret = cli_map_open(argc, argv, &i, &m);
	if (ret)
		return ret;
	if (i + 1 != argc) {
		cli_map_close(&m);
		return cli_usage_err("map pin: expected MAP FILE");
	}
	ret = bpfrt_map_pin(m.map, argv[i], &err);
	cli_map_close(&m);
	if (ret)
		return cli_err("%s", err.msg);
	if (cli.json) {
		json_null();
		json_finish();
	}
	return 0;
}

int cmd_map_freeze(int argc, char **argv)
{
	struct cli_map m;
	int i = 0, ret = cli_map_open(argc, argv, &i, &m);

	if (ret)
		return ret;
	if (i != argc) {
		cli_map_close(&m);
		return cli_usage_err("map freeze: unexpected '%s'", argv[i]);
	}
	ret = bpfrt_map_freeze(m.map);
	cli_map_close(&m);
	if (ret == -EBUSY)
		return cli_err("map '%s' is frozen already", m.info.name);
	if (ret)
		return cli_err("cannot freeze map '%s': %s", m.info.name, strerror(-ret));
	if (cli.json) {
		json_null();
		json_finish();
	}
	return 0;
}
