/* loader.h — the object loader's model of an ELF object: sections, symbols, functions, maps, programs (internal). */
#ifndef BPFRT_LOADER_H
#define BPFRT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bpfrt.h"

/*
 * The loader works in stages, one file each:
 *
 *	elf.c     sections, symbols and relocations, read with libelf
 *	btf.c     .BTF (through libbpf's BTF API) and .BTF.ext (line info, CO-RE)
 *	progs.c   functions in executable sections, which are programs, their types
 *	maps.c    map definitions: legacy (maps), global data
 *	btf_maps.c  BTF-defined maps (.maps) and their __array initialisers
 *	relo.c    one program's instructions: its subprograms appended, lddw and
 *	          calls relocated, its map table, line info
 *	load.c    bpfrt_obj_load: maps, then programs, then initial contents
 *	globals.c reading and writing global variables by name
 *	obj.c     the public API: open, accessors, close
 *
 * Everything found at open is kept in struct bpfrt_obj; strings point into
 * the ELF image or the BTF, both of which live until bpfrt_obj_close.
 */

struct Elf;
struct btf;

/* ELF relocation types of eBPF (R_BPF_*). */
enum {
	LD_R_BPF_NONE = 0,		/* some old toolchains used it for lddw */
	LD_R_BPF_64_64 = 1,		/* lddw */
	LD_R_BPF_64_ABS64 = 2,		/* data: a 64-bit address (.maps values) */
	LD_R_BPF_64_ABS32 = 3,
	LD_R_BPF_64_NODYLD32 = 4,
	LD_R_BPF_64_32 = 10,		/* call */
};

/* ---- Sections and symbols ------------------------------------------------ */

enum ld_sec_kind {
	LD_SEC_OTHER = 0,	/* not ours (debug info, .eh_frame, ...) */
	LD_SEC_PROG,		/* executable: functions */
	LD_SEC_MAPS,		/* .maps: BTF-defined maps */
	LD_SEC_LEGACY_MAPS,	/* maps: struct bpf_map_def records */
	LD_SEC_DATA,		/* .data, .data.* */
	LD_SEC_RODATA,		/* .rodata, .rodata.* */
	LD_SEC_BSS,		/* .bss, .bss.* */
	LD_SEC_LICENSE,
	LD_SEC_VERSION,
	LD_SEC_BTF,
	LD_SEC_BTF_EXT,
};

struct ld_rel {
	uint64_t off;		/* byte offset in the section it applies to */
	uint32_t sym;		/* symbol index */
	uint32_t type;		/* LD_R_BPF_* */
	int64_t addend;		/* SHT_RELA only */
	bool rela;
	uint32_t no;		/* its number in its relocation section, for messages */
};

/* A line info record of .BTF.ext, by instruction index in its section. */
struct ld_line {
	uint32_t insn;
	uint32_t file_off, line_off;	/* BTF strings */
	uint32_t line_col;		/* line << 10 | column */
};

struct ld_sec {
	const char *name;
	enum ld_sec_kind kind;
	uint32_t type, flags;
	const uint8_t *data;	/* NULL for SHT_NOBITS and sections we skip */
	size_t size;
	struct ld_rel *rels;	/* sorted by off */
	size_t nrels;
	int map;		/* global data: its map; else -1 */
	size_t func0, nfuncs;	/* LD_SEC_PROG: its functions, by start */
	struct ld_line *lines;	/* sorted by insn */
	size_t nlines;
	uint32_t *core;		/* CO-RE relocations: instruction indices, sorted */
	size_t ncore;
};

struct ld_sym {
	const char *name;
	uint64_t value, size;
	uint32_t shndx;		/* section index, or SHN_UNDEF / SHN_ABS / ... */
	uint8_t type, bind;	/* STT_*, STB_* */
};

/* A function: a stretch of an executable section that a symbol names. */
struct ld_func {
	const char *name;
	uint32_t sec;
	size_t start, n;	/* in instructions from the section's start */
	bool global;		/* global functions are programs */
	int prog;		/* its program, or -1 */
};

/* ---- Maps ------------------------------------------------------------------ */

enum ld_map_kind { LD_MAP_BTF, LD_MAP_LEGACY, LD_MAP_DATA };

struct ld_mapdef {
	uint32_t type, key_size, value_size, max_entries, map_flags;
	uint32_t pinning;
	uint64_t map_extra;
	uint32_t key_type, value_type;	/* BTF type ids of __type(key/value), or 0 */
};

/* A slot a prog array or map of maps starts with (from __array initialisers). */
struct ld_init {
	uint32_t key;
	int target;		/* a program (prog arrays) or a map (maps of maps) */
};

struct ld_map {
	const char *name;
	uint32_t sec;
	enum ld_map_kind kind;
	uint64_t off, size;		/* where its definition lies in its section */
	struct ld_mapdef def;
	bool has_inner;			/* BTF maps of maps: the template */
	struct ld_mapdef inner;
	int inner_idx;			/* legacy maps of maps: the template map, or -1 */
	uint64_t values_off;		/* BTF: offset of `values` in the definition */
	bool has_values;
	struct ld_init *inits;
	size_t ninits;
	uint8_t *image;			/* global data: the initial value */
	struct bpfrt_map *map;		/* after load */
};

/* ---- Programs ---------------------------------------------------------------- */

/* Line info resolved for one program: by instruction index in the program. */
struct ld_pline {
	uint32_t insn;
	const char *file, *src;
	uint32_t line, col;
};

struct ld_prog {
	const char *name;
	uint32_t sec;
	int func;			/* its main function */
	enum bpfrt_prog_type type;
	struct bpfrt_insn *insns;	/* relocated */
	size_t n;
	int *maps;			/* its map table: indices into obj->maps */
	size_t nmaps;
	size_t *fstarts;		/* where each function begins, ascending */
	size_t nfuncs;
	struct ld_pline *lines;		/* ascending insn */
	size_t nlines;
	unsigned core_relos;
	/* calls of extern functions (kfuncs): where, and whom, for the verifier's messages */
	struct ld_kfunc { size_t insn; const char *name; } *kfuncs;
	size_t nkfuncs;
	char *unsupported;		/* why it cannot be loaded, or NULL */
	bool autoload;
	struct bpfrt_map **table;	/* after load: the maps given to bpfrt_prog_new */
	struct bpfrt_prog *prog;	/* after load */
	uint32_t pin_id;		/* src/pin: its global id once registered, else 0 */
	char *live_record;		/* src/pin: its record while this process runs it */
};

struct bpfrt_obj {
	char *name;			/* for messages */
	uint8_t *image;			/* our copy of the file */
	size_t image_len;
	struct Elf *elf;
	struct ld_sec *secs;
	size_t nsecs;
	struct ld_sym *syms;
	size_t nsyms;
	struct btf *btf;		/* NULL without .BTF */
	struct ld_func *funcs;		/* by section, then start */
	size_t nfuncs;
	struct ld_map *maps;
	size_t nmaps;
	struct ld_prog *progs;
	size_t nprogs;
	char *license;
	uint32_t kversion;
	enum bpfrt_prog_type default_type;
	unsigned cpu, ncpus;
	bool jit_blind;			/* bpfrt_obj_opts.jit_blind */
	bool loaded;
	char *pin_dir;			/* bpfrt_obj_pin_maps: where maps are shared, or NULL */
	char *path;			/* bpfrt_obj_open: the file's absolute path, or NULL */
};

/* ---- Stages ---------------------------------------------------------------- */

/* elf.c: sections, symbols, relocations, license and version. */
int ld_elf_read(struct bpfrt_obj *obj, struct bpfrt_error *err);
void ld_elf_free(struct bpfrt_obj *obj);
/* The relocation of sec at byte offset off, or NULL. */
const struct ld_rel *ld_rel_at(const struct ld_sec *sec, uint64_t off);

/* btf.c: .BTF and .BTF.ext. */
int ld_btf_read(struct bpfrt_obj *obj, struct bpfrt_error *err);
void ld_btf_free(struct bpfrt_obj *obj);
/* A BTF string, or "" for a bad offset. */
const char *ld_btf_str(const struct bpfrt_obj *obj, uint32_t off);
/*
 * The size BTF gives variable `name` of data section `sec`: 1 if found
 * (*size set), 0 if BTF does not describe it, or a negative errno.
 */
int ld_btf_var_size(const struct bpfrt_obj *obj, const char *sec, const char *name,
		    uint64_t *size);

/* progs.c: functions and programs. */
int ld_progs_find(struct bpfrt_obj *obj, struct bpfrt_error *err);
/* The function of section sec that starts at instruction insn, or -1. */
int ld_func_at(const struct bpfrt_obj *obj, uint32_t sec, uint64_t insn);
enum bpfrt_prog_type ld_prog_type_of(const char *section);

/* maps.c: map definitions. */
int ld_maps_find(struct bpfrt_obj *obj, struct bpfrt_error *err);
/* A new, zeroed map at the end of obj->maps (which may move), or NULL. */
struct ld_map *ld_map_add(struct bpfrt_obj *obj);
/* The variables (symbols) of section sec, as symbol indices by offset; malloc'ed. */
size_t *ld_section_vars(const struct bpfrt_obj *obj, uint32_t sec, size_t *n);

/* btf_maps.c: BTF-defined maps of section sec (.maps). */
int ld_btf_maps(struct bpfrt_obj *obj, uint32_t sec, struct bpfrt_error *err);
/* Resolve the initial contents of prog arrays and maps of maps (after programs). */
int ld_maps_inits(struct bpfrt_obj *obj, struct bpfrt_error *err);
/* The map defined at byte off of section sec, or -1. */
int ld_map_at(const struct bpfrt_obj *obj, uint32_t sec, uint64_t off);
const char *ld_map_type_name(uint32_t type);
bool ld_map_is_of_maps(uint32_t type);

/* relo.c: build every program's instructions. */
int ld_relocate(struct bpfrt_obj *obj, struct bpfrt_error *err);

/* src/pin/obj_pin.c: create map m of obj or reuse the one pinned in obj->pin_dir. */
int pin_obj_map(struct bpfrt_obj *obj, struct ld_map *m, struct bpfrt_error *err);

/* src/pin/prog_pin.c: list (and forget) loaded programs of objects whose maps are pinned. */
void pin_obj_loaded(struct bpfrt_obj *obj);
void pin_obj_unloaded(struct bpfrt_obj *obj);

/* load.c: undo a load (also what bpfrt_obj_close uses). */
void ld_unload(struct bpfrt_obj *obj);

#endif /* BPFRT_LOADER_H */
