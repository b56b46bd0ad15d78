/* map_create.c — `bpfrt map create FILE type TYPE key KSZ value VSZ entries N name NAME [flags F]`: a new pinned map. */
#include <stdlib.h>
#include <string.h>

#include "map_cli.h"

static int number(const char *what, const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	*v = strtoull(s, &end, 0);
	if (!*s || *end || *v > max)
		return cli_usage_err("%s: '%s' is not a number up to %llu", what, s,
				     (unsigned long long)max);
	return 0;
}

int cmd_map_create(int argc, char **argv)
{
	BPFRT_OPTS(bpfrt_map_opts, o);
	bool have[4] = { false };	/* type, key, value, entries */
	struct bpfrt_error err;
	struct bpfrt_map *map;
	const char *file;
	uint64_t v;
	int ret;

	if (argc < 1)
		return cli_usage_err("map create: expected FILE type TYPE key KSZ value VSZ "
				     "entries N name NAME [flags F]");
	file = argv[0];
	for (int i = 1; i < argc; i += 2) {
		const char *kw = argv[i];

		if (i + 1 >= argc)
			return cli_usage_err("map create: '%s' needs a value", kw);
		if (cli_is_kw(kw, "type")) {
			int t = cli_map_type_parse(argv[i + 1]);

			if (t < 0)
				return 2;
			o.type = (enum bpfrt_map_type)t;
			have[0] = true;
		} else if (cli_is_kw(kw, "key")) {
			if ((ret = number("key", argv[i + 1], UINT32_MAX, &v)))
				return ret;
			o.key_size = (uint32_t)v;
			have[1] = true;
		} else if (cli_is_kw(kw, "value")) {
			if ((ret = number("value", argv[i + 1], UINT32_MAX, &v)))
				return ret;
			o.value_size = (uint32_t)v;
			have[2] = true;
		} else if (cli_is_kw(kw, "entries")) {
			if ((ret = number("entries", argv[i + 1], UINT32_MAX, &v)))
				return ret;
			o.max_entries = (uint32_t)v;
			have[3] = true;
		} else if (cli_is_kw(kw, "name")) {
			o.name = argv[i + 1];
		} else if (cli_is_kw(kw, "flags")) {
			if ((ret = number("flags", argv[i + 1], UINT32_MAX, &v)))
				return ret;
			o.map_flags = (uint32_t)v;
		} else if (cli_is_kw(kw, "extra")) {
			if ((ret = number("extra", argv[i + 1], UINT64_MAX, &v)))
				return ret;
			o.map_extra = v;
		} else {
			return cli_usage_err("map create: unexpected '%s'", kw);
		}
	}
	static const char *const need[] = { "type", "key", "value", "entries" };

	for (int k = 0; k < 4; k++)
		if (!have[k])
			return cli_usage_err("map create: '%s' is missing", need[k]);
	if (!o.name)
		return cli_usage_err("map create: 'name' is missing");
	ret = bpfrt_map_create(&o, &map, &err);
	if (ret)
		return cli_err("map create: %s", err.msg);
	ret = bpfrt_map_pin(map, file, &err);
	bpfrt_map_free(map);
	if (ret)
		return cli_err("%s", err.msg);
	if (cli.json) {
		json_null();
		json_finish();
	}
	return 0;
}
