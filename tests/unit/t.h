/* t.h — the unit-test harness: TEST() cases register themselves, CHECK() counts. */
#ifndef BPFRT_T_H
#define BPFRT_T_H

#include <stdbool.h>
#include <stdio.h>

struct t_case {
	const char *name;
	void (*fn)(void);
	struct t_case *next;
};

void t_register(struct t_case *c);
/* Record one check; prints the message when it fails. Returns cond. */
bool t_check(bool cond, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Directory of the repository's test data (tests/). */
const char *t_datadir(void);
/* The build directory (for tools such as bpfrt_plugin). */
const char *t_builddir(void);

#define TEST(name) \
	static void test_##name(void); \
	static struct t_case t_case_##name = { #name, test_##name, NULL }; \
	__attribute__((constructor)) static void t_reg_##name(void) \
	{ \
		t_register(&t_case_##name); \
	} \
	static void test_##name(void)

#define CHECK(cond, ...) t_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#endif /* BPFRT_T_H */
