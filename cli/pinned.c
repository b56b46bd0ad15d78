/* pinned.c — the listings of `map show` and `prog show`: every pinned file, by id and then path. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_pin_list_add(struct cli_pin_list *l, uint32_t id, int32_t pid, const char *path)
{
	char *copy;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct cli_pin_entry *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	copy = strdup(path);
	if (!copy)
		return -1;
	l->v[l->n++] = (struct cli_pin_entry){ .id = id, .pid = pid, .path = copy };
	return 0;
}

static int by_id(const void *a, const void *b)
{
	const struct cli_pin_entry *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return strcmp(x->path, y->path);
}

void cli_pin_list_sort(struct cli_pin_list *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_id);
}

void cli_pin_list_free(struct cli_pin_list *l)
{
	for (size_t k = 0; k < l->n; k++)
		free(l->v[k].path);
	free(l->v);
	*l = (struct cli_pin_list){ 0 };
}

void cli_show_pinned(char *const *paths, size_t npaths)
{
	if (cli.json) {
		json_key("pinned");
		json_begin_array();
		for (size_t k = 0; k < npaths; k++)
			json_string(paths[k]);
		json_end_array();
		return;
	}
	for (size_t k = 0; k < npaths; k++)
		printf("\tpinned %s\n", paths[k]);
}
