/* task.c — the current task: pid/tgid, uid/gid, comm, its cgroup. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/prog.h"
#include "helpers.h"
#include "maps/map.h"

/* The calling thread stands for the kernel's `current`. */

HELPER_DEF(get_current_pid_tgid)
{
	return (uint64_t)(uint32_t)getpid() << 32 | (uint32_t)gettid();
}

HELPER_DEF(get_current_uid_gid)
{
	return (uint64_t)getgid() << 32 | getuid();
}

/* (buf, size): the thread's name, truncated to size - 1, NUL-padded to size. */
HELPER_DEF(get_current_comm)
{
	char comm[16] = "";
	size_t size = (uint32_t)r2, n;
	char *buf = (char *)(uintptr_t)r1;

	if (!size)
		return HELPER_ERR(-EINVAL);
	if (!helper_mem_ok(run, "get_current_comm", 1, r1, size, true))
		return HELPER_ERR(-EFAULT);
	if (prctl(PR_GET_NAME, comm, 0, 0, 0))
		comm[0] = '\0';
	comm[15] = '\0';
	n = strnlen(comm, size - 1);
	memcpy(buf, comm, n);
	memset(buf + n, 0, size - n);
	return 0;
}

/* ---- Cgroups (v2) -------------------------------------------------------- */

/* Where cgroup2 is mounted ("" if it is not), found once in mountinfo. */
static char cg_root[512];
static pthread_once_t cg_once = PTHREAD_ONCE_INIT;

static void cg_find_root(void)
{
	char line[1024], mnt[512];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		if (sep && !strncmp(sep, " - cgroup2 ", 11) &&
		    sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1) {
			snprintf(cg_root, sizeof(cg_root), "%s", mnt);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* The calling thread's cgroup v2 path below the mount ("/a/b"), or -ENOENT. */
static int current_cgroup(char *rel, size_t len)
{
	char line[1024];
	int ret = -ENOENT;
	FILE *f;

	pthread_once(&cg_once, cg_find_root);
	if (!cg_root[0])
		return -ENOENT;
	f = fopen("/proc/thread-self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = '\0';
		if ((size_t)snprintf(rel, len, "%s", line + 3) < len)
			ret = 0;
		break;
	}
	if (f)
		fclose(f);
	return ret;
}

/* The id (inode) of cgroup rel, 0 if it cannot be read. */
static uint64_t cgroup_id(const char *rel)
{
	char dir[1536];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s%s", cg_root, rel);
	return stat(dir, &st) ? 0 : (uint64_t)st.st_ino;
}

/* 1 if cgroup id is the thread's cgroup or one of its ancestors, else 0. */
static int current_under(uint64_t id)
{
	char rel[1024];

	if (current_cgroup(rel, sizeof(rel)))
		return 0;
	for (;;) {
		char *slash = strrchr(rel, '/');

		if (cgroup_id(rel) == id)
			return 1;
		if (!slash || !strcmp(rel, "/"))
			return 0;
		slash[slash == rel] = '\0';	/* "/a" becomes "/", "/a/b" becomes "/a" */
	}
}

/* (map, index): 1 or 0; -E2BIG for an index out of range, -EAGAIN for an empty slot. */
HELPER_DEF(current_task_under_cgroup)
{
	struct bpfrt_map *m = helper_map_arg(run, "current_task_under_cgroup", r1);
	uint64_t id;
	long ret;

	if (!m)
		return HELPER_ERR(-EINVAL);
	ret = map_cgroup_array_get(m, (uint32_t)r2, &id);
	return ret ? HELPER_ERR(ret) : (uint64_t)current_under(id);
}

/* The calling thread's cgroup v2 id (its directory's inode), 0 without cgroup2. */
HELPER_DEF(get_current_cgroup_id)
{
	char rel[1024];

	return current_cgroup(rel, sizeof(rel)) ? 0 : cgroup_id(rel);
}

const struct helper_def helper_task_defs[] = {
	{ HELPER_GET_CURRENT_PID_TGID, "get_current_pid_tgid", get_current_pid_tgid },
	{ HELPER_GET_CURRENT_UID_GID, "get_current_uid_gid", get_current_uid_gid },
	{ HELPER_GET_CURRENT_COMM, "get_current_comm", get_current_comm },
	{ HELPER_CURRENT_TASK_UNDER_CGROUP, "current_task_under_cgroup",
	  current_task_under_cgroup },
	{ HELPER_GET_CURRENT_CGROUP_ID, "get_current_cgroup_id", get_current_cgroup_id },
};
const size_t helper_task_ndefs = HELPER_NDEFS(helper_task_defs);
