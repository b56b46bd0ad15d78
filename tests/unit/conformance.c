/* conformance.c — reading the bpf_conformance suite's .data files (conformance.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance.h"

char *conf_slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1))) {
		size_t r = fread(buf, 1, (size_t)len, f);

		buf[r] = '\0';
	}
	fclose(f);
	return buf;
}

static void append(char **dst, size_t *len, const char *line)
{
	size_t l = strlen(line);
	char *p = realloc(*dst, *len + l + 2);

	if (!p)
		abort();
	memcpy(p + *len, line, l);
	p[*len + l] = '\n';
	p[*len + l + 1] = '\0';
	*dst = p;
	*len += l + 1;
}

bool conf_parse(const char *path, struct conf_case *c)
{
	char *text = conf_slurp(path), *save = NULL, *line;
	const char *section = "";
	size_t asm_len = 0;

	if (!text)
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "-- ", 3)) {
			section = line + 3;
			continue;
		}
		if (!strcmp(section, "asm")) {
			append(&c->asm_text, &asm_len, line);
		} else if (!strcmp(section, "mem")) {
			for (char *p = line; *p;) {
				char *end;
				unsigned long b = strtoul(p, &end, 16);

				if (end == p)
					break;
				if (c->mem_len < sizeof(c->mem))
					c->mem[c->mem_len++] = (unsigned char)b;
				p = end;
			}
		} else if (!strcmp(section, "result")) {
			c->result = strtoull(line, NULL, 16);
			c->has_result = true;
		} else if (!strcmp(section, "error")) {
			c->expect_error = true;
		} else if (!strcmp(section, "raw") && c->nraw < 64) {
			c->raw[c->nraw++] = strtoull(line, NULL, 16);
		}
	}
	free(text);
	if (!c->asm_text)
		append(&c->asm_text, &asm_len, "");
	return true;
}

uint64_t conf_helper_5(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5,
		       struct bpfrt_run *run)
{
	(void)r2; (void)r3; (void)r4; (void)r5; (void)run;
	return r1;
}
