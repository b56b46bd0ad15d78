/* prog_pin.c — program tags, and program records: pinning a program of an object and re-creating it elsewhere. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loader/loader.h"
#include "maps/map.h"
#include "pin/pin.h"
#include "pin/sha256.h"
#include "util/error.h"

#define LDDW 0x18
#define RECORD_MAGIC "bpfrt-prog 1"

BPFRT_API void bpfrt_prog_tag(const struct bpfrt_prog *prog, uint8_t tag[8])
{
	size_t n = bpfrt_prog_insn_cnt(prog);
	const struct bpfrt_insn *in = bpfrt_prog_insns(prog);
	struct bpfrt_insn *c = malloc((n ? n : 1) * sizeof(*c));
	uint8_t digest[32];

	if (!c) {
		memset(tag, 0, 8);
		return;
	}
	memcpy(c, in, n * sizeof(*c));
	for (size_t i = 0; i + 1 < n; i++) {
		unsigned src = c[i].src_reg;

		if (c[i].code != LDDW)
			continue;
		if (src == 1 || src == 2 || src == 5 || src == 6) {
			c[i].src_reg = src == 5 ? 1 : src == 6 ? 2 : src;
			c[i].imm = 0;
			c[i + 1].imm = 0;
		}
		i++;	/* the second slot */
	}
	sha256(c, n * sizeof(*c), digest);
	memcpy(tag, digest, 8);
	free(c);
}

/* ---- Records ---------------------------------------------------------------------- */

static void tag_hex(const struct bpfrt_prog *prog, char out[17])
{
	uint8_t tag[8];

	bpfrt_prog_tag(prog, tag);
	for (int k = 0; k < 8; k++)
		snprintf(out + 2 * k, 3, "%02x", tag[k]);
}

/* The licenses the kernel counts as GPL-compatible. */
static int gpl_compatible(const char *license)
{
	static const char *const gpl[] = { "GPL", "GPL v2", "GPL and additional rights",
					   "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL" };

	for (size_t k = 0; license && k < ARRAY_SIZE(gpl); k++)
		if (!strcmp(license, gpl[k]))
			return 1;
	return 0;
}

/*
 * Bytes of the JIT's code for the program (unchecked mode), from a copy of
 * it: translating the loaded one would seal its helpers before its owner
 * has set them. 0 if the JIT cannot translate it.
 */
static uint32_t jited_size(const struct ld_prog *p)
{
	BPFRT_OPTS(bpfrt_prog_opts, o, .maps = p->table, .nmaps = p->nmaps);
	struct bpfrt_prog *copy;
	const void *code;
	size_t len = 0;

	if (bpfrt_prog_new(bpfrt_prog_insns(p->prog), bpfrt_prog_insn_cnt(p->prog), &o, &copy,
			   NULL))
		return 0;
	bpfrt_prog_use_builtin_helpers(copy);
	if (bpfrt_prog_jited(copy, false, &code, &len, NULL, NULL))
		len = 0;
	bpfrt_prog_free(copy);
	return (uint32_t)len;
}

/*
 * Write program i's record at path (O_EXCL, 0600), with its id (taking one
 * if it has none yet) and, for a live record, the pid running it.
 */
static int write_record(struct bpfrt_obj *obj, size_t i, const char *path, pid_t pid,
			struct bpfrt_error *err)
{
	struct ld_prog *p = &obj->progs[i];
	char tag[17];
	FILE *f;
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		return err_set(err, -e, -1, "cannot pin program '%s' at '%s': %s", p->name, path,
			       e == EEXIST ? "the file exists" : strerror(e));
	}
	if (!p->pin_id && (ret = pin_next_id(PIN_PROG, &p->pin_id, err))) {
		close(fd);
		unlink(path);
		return ret;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return err_set(err, -ENOMEM, -1, "out of memory");
	}
	tag_hex(p->prog, tag);
	fprintf(f, RECORD_MAGIC "\nid %u\nname %s\ntype %u\ntag %s\nobject %s\nmaps %s\n"
		"loaded_at %llu\nuid %u\nbytes_xlated %zu\nbytes_jited %u\ngpl %d\n",
		p->pin_id, p->name, (unsigned)p->type, tag, obj->path,
		obj->pin_dir ? obj->pin_dir : "", (unsigned long long)time(NULL),
		(unsigned)geteuid(), bpfrt_prog_insn_cnt(p->prog) * 8, jited_size(p),
		gpl_compatible(obj->license));
	if (pid)
		fprintf(f, "pid %d\n", (int)pid);
	fputs("map_ids", f);
	for (size_t k = 0; k < p->nmaps; k++) {
		struct pin_meta *pm = obj->maps[p->maps[k]].map ? obj->maps[p->maps[k]].map->pin
							      : NULL;

		if (pm && pm->t.id)
			fprintf(f, " %u", pm->t.id);
	}
	fputc('\n', f);
	if (fclose(f)) {
		unlink(path);
		return err_set(err, -EIO, -1, "cannot write '%s'", path);
	}
	return pin_register(PIN_PROG, path, err);
}

BPFRT_API int bpfrt_obj_pin_prog(struct bpfrt_obj *obj, size_t i, const char *path,
				 struct bpfrt_error *err)
{
	err_clear(err);
	if (i >= obj->nprogs)
		return err_set(err, -EINVAL, -1, "the object has no program %zu", i);
	if (!obj->progs[i].prog)
		return err_set(err, -EINVAL, -1, "program '%s' is not loaded", obj->progs[i].name);
	if (!obj->path)
		return err_set(err, -EINVAL, -1, "object '%s' was not opened from a file, so its "
			       "programs cannot be re-created from a record", obj->name);
	return write_record(obj, i, path, 0, err);
}

/*
 * Programs of objects that share their maps through the state directory are
 * listed while they are loaded: a live record, state/live/PID.ID, that
 * names the process; unloading removes it, and readers drop the records of
 * processes that died.
 */
void pin_obj_loaded(struct bpfrt_obj *obj)
{
	char path[PATH_MAX], dir[PATH_MAX];

	if (!obj->path || pin_state_prepare(NULL))
		return;
	snprintf(dir, sizeof(dir), "%s/live", bpfrt_state_dir());
	if (mkdir(dir, 0700) && errno != EEXIST)
		return;
	for (size_t i = 0; i < obj->nprogs; i++) {
		struct ld_prog *p = &obj->progs[i];

		if (!p->prog || p->live_record || (!p->pin_id && pin_next_id(PIN_PROG, &p->pin_id, NULL)))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%d.%u", dir, (int)getpid(), p->pin_id) >=
		    sizeof(path))
			continue;
		unlink(path);	/* left by an earlier process with our pid */
		if (write_record(obj, i, path, getpid(), NULL) == 0)
			p->live_record = strdup(path);
	}
}

void pin_obj_unloaded(struct bpfrt_obj *obj)
{
	for (size_t i = 0; i < obj->nprogs; i++) {
		struct ld_prog *p = &obj->progs[i];

		if (p->live_record)
			unlink(p->live_record);
		free(p->live_record);
		p->live_record = NULL;
		p->pin_id = 0;
	}
}

static int field(const char *line, const char *key, const char **val)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) || (line[n] != ' ' && line[n] != '\0'))
		return 0;
	*val = line[n] ? line + n + 1 : line + n;
	return 1;
}

/* A text field of a record into dst; false if it does not fit (a damaged record, never a cut path). */
static bool copy_field(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

BPFRT_API int bpfrt_prog_record_read(const char *path, struct bpfrt_prog_record *r,
				     struct bpfrt_error *err)
{
	char line[4200];
	const char *v;
	FILE *f;
	bool ok;

	err_clear(err);
	memset(r, 0, sizeof(*r));
	f = fopen(path, "re");
	if (!f) {
		int e = errno;

		if (e == ENOENT)
			return err_set(err, -ENOENT, -1, "no program pinned at '%s'", path);
		return err_set(err, -e, -1, "cannot open '%s': %s", path, strerror(e));
	}
	ok = fgets(line, sizeof(line), f) && !strcmp(line, RECORD_MAGIC "\n");
	while (ok && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (field(line, "id", &v))
			r->id = (uint32_t)strtoul(v, NULL, 10);
		else if (field(line, "name", &v))
			ok = copy_field(r->name, sizeof(r->name), v);
		else if (field(line, "type", &v))
			r->type = (enum bpfrt_prog_type)strtoul(v, NULL, 10);
		else if (field(line, "tag", &v))
			ok = copy_field(r->tag, sizeof(r->tag), v);
		else if (field(line, "object", &v))
			ok = copy_field(r->object, sizeof(r->object), v);
		else if (field(line, "maps", &v))
			ok = copy_field(r->maps_dir, sizeof(r->maps_dir), v);
		else if (field(line, "loaded_at", &v))
			r->loaded_at = strtoull(v, NULL, 10);
		else if (field(line, "uid", &v))
			r->uid = (uint32_t)strtoul(v, NULL, 10);
		else if (field(line, "bytes_xlated", &v))
			r->bytes_xlated = (uint32_t)strtoul(v, NULL, 10);
		else if (field(line, "bytes_jited", &v))
			r->bytes_jited = (uint32_t)strtoul(v, NULL, 10);
		else if (field(line, "pid", &v))
			r->pid = (int32_t)strtol(v, NULL, 10);
		else if (field(line, "gpl", &v))
			r->gpl = *v == '1';
		else if (field(line, "map_ids", &v))
			for (char *end; *v && r->nmap_ids < 64; v = end) {
				unsigned long id = strtoul(v, &end, 10);

				if (end == v)
					break;
				r->map_ids[r->nmap_ids++] = (uint32_t)id;
			}
	}
	fclose(f);
	if (!ok || !r->id || !r->name[0] || !r->object[0])
		return err_set(err, -EINVAL, -1, "'%s' is not a pinned bpfrt program", path);
	if (r->pid > 0 && kill(r->pid, 0) && errno == ESRCH) {
		unlink(path);	/* a live record of a process that died */
		return err_set(err, -ENOENT, -1, "the program of '%s' was loaded by process %d, "
			       "which has exited", path, (int)r->pid);
	}
	return 0;
}

BPFRT_API int bpfrt_prog_open_pinned(const char *path, struct bpfrt_obj **objp,
				     struct bpfrt_prog **progp, struct bpfrt_error *err)
{
	struct bpfrt_prog_record r;
	struct bpfrt_obj *obj = NULL;
	struct bpfrt_error e2;
	char tag[17];
	int ret, idx;

	*objp = NULL;
	*progp = NULL;
	ret = bpfrt_prog_record_read(path, &r, err);
	if (ret)
		return ret;
	BPFRT_OPTS(bpfrt_obj_opts, o);
	ret = bpfrt_obj_open(r.object, &o, &obj, &e2);
	if (ret)
		return err_set(err, ret, -1, "program pinned at '%s': %s", path, e2.msg);
	idx = bpfrt_obj_prog_find(obj, r.name);
	if (idx < 0) {
		ret = err_set(err, -ENOENT, -1, "program pinned at '%s': '%s' has no program '%s' "
			      "any more", path, r.object, r.name);
		goto fail;
	}
	for (size_t k = 0; k < obj->nprogs; k++)
		bpfrt_obj_prog_set_autoload(obj, k, k == (size_t)idx);
	bpfrt_obj_prog_set_type(obj, (size_t)idx, r.type);
	if (r.maps_dir[0] && (ret = bpfrt_obj_pin_maps(obj, r.maps_dir, &e2))) {
		ret = err_set(err, ret, -1, "program pinned at '%s': %s", path, e2.msg);
		goto fail;
	}
	obj->progs[idx].pin_id = r.id;	/* re-created, it is the same program */
	ret = bpfrt_obj_load(obj, &e2);
	if (ret) {
		ret = err_set(err, ret, -1, "program pinned at '%s': %s", path, e2.msg);
		goto fail;
	}
	tag_hex(obj->progs[idx].prog, tag);
	if (strcmp(tag, r.tag)) {
		ret = err_set(err, -ESTALE, -1, "program pinned at '%s': '%s' changed: program '%s' "
			      "has tag %s now, %s when pinned", path, r.object, r.name, tag, r.tag);
		goto fail;
	}
	*objp = obj;
	*progp = obj->progs[idx].prog;
	return 0;
fail:
	bpfrt_obj_close(obj);
	return ret;
}

BPFRT_API int bpfrt_prog_record_pin(const char *from, const char *to, struct bpfrt_error *err)
{
	struct bpfrt_prog_record r;
	char buf[8192];
	ssize_t n;
	int in, out, ret = bpfrt_prog_record_read(from, &r, err);

	if (ret)
		return ret;
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_set(err, -errno, -1, "cannot open '%s': %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		int e = errno;

		close(in);
		return err_set(err, -e, -1, "cannot pin program '%s' at '%s': %s", r.name, to,
			       e == EEXIST ? "the file exists" : strerror(e));
	}
	n = read(in, buf, sizeof(buf) - 1);
	if (n > 0) {
		/* A pinned copy of a live record outlives the process: no pid line. */
		char *pid;

		buf[n] = '\0';
		if ((pid = strstr(buf, "\npid ")) != NULL) {
			char *eol = strchr(pid + 1, '\n');

			if (eol)
				memmove(pid, eol, strlen(eol) + 1);
			n = (ssize_t)strlen(buf);
		}
	}
	ret = n > 0 && write(out, buf, (size_t)n) == n ? 0 : -EIO;
	close(in);
	if (close(out) || ret) {
		unlink(to);
		return err_set(err, -EIO, -1, "cannot write '%s'", to);
	}
	return pin_register(PIN_PROG, to, err);
}
