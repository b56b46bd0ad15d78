/* state.c — the state directory: where it is, its global id counters, the registry of pinned files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pin/pin.h"
#include "util/error.h"

static const char *const kind_dir[] = { "maps", "progs" };

BPFRT_API const char *bpfrt_state_dir(void)
{
	static __thread char buf[PATH_MAX];
	const char *root = getenv("BPFRT_ROOT"), *xdg;

	if (root && root[0])
		snprintf(buf, sizeof(buf), "%s", root);
	else if (geteuid() == 0)
		snprintf(buf, sizeof(buf), "/run/bpfrt");
	else if ((xdg = getenv("XDG_RUNTIME_DIR")) && xdg[0])
		snprintf(buf, sizeof(buf), "%s/bpfrt", xdg);
	else
		snprintf(buf, sizeof(buf), "/tmp/bpfrt-%u", (unsigned)geteuid());
	return buf;
}

int pin_mkdirs(const char *dir, unsigned mode, struct bpfrt_error *err)
{
	char path[PATH_MAX];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof(path))
		return err_set(err, -EINVAL, -1, "directory name '%s' is empty or too long", dir);
	memcpy(path, dir, len + 1);
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, mode) && errno != EEXIST)
			return err_set(err, -errno, -1, "cannot create directory '%s': %s", path,
				       strerror(errno));
		*p = c;
		if (!c)
			break;
	}
	struct stat st;

	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		return err_set(err, -ENOTDIR, -1, "'%s' is not a directory", path);
	return 0;
}

/*
 * The state directory must be ours: a directory we own, not a symlink
 * (for /tmp/bpfrt-UID, which anyone could have made first).
 */
int pin_state_prepare(struct bpfrt_error *err)
{
	const char *dir = bpfrt_state_dir();
	char sub[PATH_MAX];
	struct stat st;
	int ret = pin_mkdirs(dir, 0700, err);

	if (ret)
		return err_set(err, ret, -1, "state directory: %s", err ? err->msg : "");
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return err_set(err, -EPERM, -1,
			       "state directory '%s' is not a directory owned by uid %u", dir,
			       (unsigned)geteuid());
	for (size_t k = 0; k < ARRAY_SIZE(kind_dir); k++) {
		snprintf(sub, sizeof(sub), "%s/%s", dir, kind_dir[k]);
		if (mkdir(sub, 0700) && errno != EEXIST)
			return err_set(err, -errno, -1, "cannot create '%s': %s", sub,
				       strerror(errno));
	}
	return 0;
}

int pin_next_id(enum pin_kind kind, uint32_t *id, struct bpfrt_error *err)
{
	char path[PATH_MAX];
	uint32_t next[2] = { 0, 0 };
	int fd, ret = 0;

	ret = pin_state_prepare(err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/ids", bpfrt_state_dir());
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(err, -errno, -1, "cannot open the id counters '%s': %s", path,
			       strerror(errno));
	if (flock(fd, LOCK_EX)) {
		ret = err_set(err, -errno, -1, "cannot lock '%s': %s", path, strerror(errno));
		goto out;
	}
	if (pread(fd, next, sizeof(next), 0) < 0) {
		ret = err_set(err, -errno, -1, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	if (next[kind] == 0)
		next[kind] = 1;
	*id = next[kind]++;
	if (pwrite(fd, next, sizeof(next), 0) != (ssize_t)sizeof(next))
		ret = err_set(err, -EIO, -1, "cannot write '%s'", path);
out:
	close(fd);	/* releases the lock */
	return ret;
}

/* The registry entry of path: path with '%' and '/' escaped. */
static int entry_path(enum pin_kind kind, const char *abs, char *out, size_t len,
		      struct bpfrt_error *err)
{
	int n = snprintf(out, len, "%s/%s/", bpfrt_state_dir(), kind_dir[kind]);
	size_t o = (size_t)n, name0 = o;

	for (const char *p = abs; *p; p++) {
		if (o + 4 >= len || o - name0 > 250)
			return err_set(err, -ENAMETOOLONG, -1,
				       "path '%s' is too long to register", abs);
		if (*p == '/' || *p == '%')
			o += (size_t)snprintf(out + o, len - o, "%%%02x", *p);
		else
			out[o++] = *p;
	}
	out[o] = '\0';
	return 0;
}

int pin_register(enum pin_kind kind, const char *path, struct bpfrt_error *err)
{
	char abs[PATH_MAX], entry[PATH_MAX];
	int ret;

	if (!realpath(path, abs))
		return err_set(err, -errno, -1, "cannot resolve '%s': %s", path, strerror(errno));
	ret = pin_state_prepare(err);
	if (!ret)
		ret = entry_path(kind, abs, entry, sizeof(entry), err);
	if (ret)
		return ret;
	unlink(entry);
	if (symlink(abs, entry))
		return err_set(err, -errno, -1, "cannot register '%s' in '%s': %s", abs,
			       entry, strerror(errno));
	return 0;
}

static int list(enum pin_kind kind, int (*fn)(void *ctx, const char *path), void *ctx)
{
	char dir[PATH_MAX], entry[PATH_MAX], target[PATH_MAX];
	struct dirent **names;
	struct stat st;
	int n, ret = 0;

	snprintf(dir, sizeof(dir), "%s/%s", bpfrt_state_dir(), kind_dir[kind]);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		ssize_t len;

		if (names[i]->d_name[0] == '.' || ret)
			goto next;
		if ((size_t)snprintf(entry, sizeof(entry), "%s/%s", dir, names[i]->d_name) >=
		    sizeof(entry))
			goto next;
		len = readlink(entry, target, sizeof(target) - 1);
		if (len < 0)
			goto next;
		target[len] = '\0';
		if (stat(target, &st)) {	/* unpinned (removed): forget it */
			if (errno == ENOENT)
				unlink(entry);
			goto next;
		}
		ret = fn(ctx, target);
next:
		free(names[i]);
	}
	free(names);
	return ret;
}

BPFRT_API int bpfrt_pinned_maps(int (*fn)(void *ctx, const char *path), void *ctx)
{
	return list(PIN_MAP, fn, ctx);
}

BPFRT_API int bpfrt_pinned_progs(int (*fn)(void *ctx, const char *path), void *ctx)
{
	return list(PIN_PROG, fn, ctx);
}
