/* main.c — runs every registered unit test and prints "N passed, M failed". */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "t.h"

static struct t_case *cases;
static unsigned passed, failed;
static const char *current;

void t_register(struct t_case *c)
{
	struct t_case **p = &cases;

	while (*p)	/* keep file order: append */
		p = &(*p)->next;
	*p = c;
}

bool t_check(bool cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (cond) {
		passed++;
		return true;
	}
	failed++;
	printf("FAIL %s (%s:%d): ", current, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return false;
}

const char *t_datadir(void)
{
	const char *d = getenv("BPFRT_TESTDATA");

	return d ? d : "tests";
}

const char *t_builddir(void)
{
	const char *d = getenv("BUILD");

	return d ? d : "build";
}

int main(int argc, char **argv)
{
	for (struct t_case *c = cases; c; c = c->next) {
		unsigned p0 = passed, f0 = failed;

		if (argc > 1 && !strstr(c->name, argv[1]))
			continue;
		current = c->name;
		c->fn();
		printf("%-28s %u passed, %u failed\n", c->name, passed - p0,
		       failed - f0);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
