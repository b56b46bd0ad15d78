/* elf.c — reading an object's ELF structure with libelf: sections, symbols, relocations, license, version. */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "loader/loader.h"
#include "util/error.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

/* ---- The file ---------------------------------------------------------------- */

static int check_header(Elf *elf, struct bpfrt_error *err)
{
	GElf_Ehdr eh;

	if (elf_kind(elf) != ELF_K_ELF)
		return err_set(err, -EINVAL, -1, "not an ELF file");
	if (!gelf_getehdr(elf, &eh))
		return err_set(err, -EINVAL, -1, "cannot read the ELF header: %s",
			       elf_errmsg(-1));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return err_set(err, -EINVAL, -1,
			       "a 32-bit ELF file: eBPF objects are ELF64");
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return err_set(err, -ENOTSUP, -1,
			       "a big-endian object: bpfrt runs little-endian eBPF "
			       "(clang -target bpfel or bpf on x86)");
	if (eh.e_machine != EM_BPF && eh.e_machine != EM_NONE)	/* old LLVM wrote 0 */
		return err_set(err, -EINVAL, -1,
			       "an ELF file for machine %u, not eBPF (%u)",
			       eh.e_machine, EM_BPF);
	if (eh.e_type != ET_REL)
		return err_set(err, -EINVAL, -1,
			       "ELF type %u: an eBPF object is relocatable (ET_REL), "
			       "as clang -c writes it", eh.e_type);
	return 0;
}

/* ---- Sections ---------------------------------------------------------------- */

static bool has_prefix(const char *s, const char *p)
{
	size_t n = strlen(p);

	return strncmp(s, p, n) == 0 && (s[n] == '\0' || s[n] == '.');
}

static enum ld_sec_kind sec_kind(const char *name, const GElf_Shdr *sh)
{
	if (sh->sh_type == SHT_PROGBITS && (sh->sh_flags & SHF_EXECINSTR))
		return sh->sh_size ? LD_SEC_PROG : LD_SEC_OTHER;
	if (sh->sh_type != SHT_PROGBITS && sh->sh_type != SHT_NOBITS)
		return LD_SEC_OTHER;
	if (!strcmp(name, ".maps"))
		return LD_SEC_MAPS;
	if (!strcmp(name, "maps"))
		return LD_SEC_LEGACY_MAPS;
	if (!strcmp(name, "license"))
		return LD_SEC_LICENSE;
	if (!strcmp(name, "version"))
		return LD_SEC_VERSION;
	if (!strcmp(name, ".BTF"))
		return LD_SEC_BTF;
	if (!strcmp(name, ".BTF.ext"))
		return LD_SEC_BTF_EXT;
	if (!sh->sh_size)
		return LD_SEC_OTHER;
	if (has_prefix(name, ".rodata"))
		return LD_SEC_RODATA;
	if (has_prefix(name, ".data"))
		return LD_SEC_DATA;
	if (has_prefix(name, ".bss"))
		return LD_SEC_BSS;
	return LD_SEC_OTHER;
}

/* Point sec at its bytes (NOBITS sections have none, only a size). */
static int sec_data(Elf_Scn *scn, const GElf_Shdr *sh, struct ld_sec *sec,
		    struct bpfrt_error *err)
{
	Elf_Data *d;

	if (sh->sh_flags & SHF_COMPRESSED)
		return err_set(err, -ENOTSUP, -1,
			       "section '%s' is compressed, which bpfrt does not read",
			       sec->name);
	if (sh->sh_type == SHT_NOBITS)
		return 0;
	d = elf_getdata(scn, NULL);
	if (!d || (sh->sh_size && !d->d_buf) || d->d_size != sh->sh_size)
		return err_set(err, -EINVAL, -1, "section '%s' cannot be read: %s",
			       sec->name, d ? "its size is inconsistent" : elf_errmsg(-1));
	sec->data = d->d_buf;
	return 0;
}

static int read_section(struct bpfrt_obj *obj, size_t shstrndx, size_t i,
			struct bpfrt_error *err)
{
	Elf_Scn *scn = elf_getscn(obj->elf, i);
	struct ld_sec *sec = &obj->secs[i];
	GElf_Shdr sh;

	sec->map = -1;
	if (!scn || !gelf_getshdr(scn, &sh))
		return err_set(err, -EINVAL, -1, "section %zu has no readable header: %s",
			       i, elf_errmsg(-1));
	sec->name = elf_strptr(obj->elf, shstrndx, sh.sh_name);
	if (!sec->name)
		return err_set(err, -EINVAL, -1, "section %zu has no valid name", i);
	sec->type = sh.sh_type;
	sec->flags = (uint32_t)sh.sh_flags;
	sec->size = sh.sh_size;
	sec->kind = sec_kind(sec->name, &sh);
	if (sec->kind == LD_SEC_OTHER && sh.sh_type != SHT_SYMTAB)
		return 0;
	if (sec->kind == LD_SEC_PROG && sec->size % sizeof(struct bpfrt_insn))
		return err_set(err, -EINVAL, -1,
			       "section '%s' holds code but is %zu bytes, not a "
			       "multiple of 8", sec->name, sec->size);
	if (sec->kind == LD_SEC_PROG && sh.sh_type == SHT_NOBITS)
		return err_set(err, -EINVAL, -1, "code section '%s' has no contents",
			       sec->name);
	return sec_data(scn, &sh, sec, err);
}

static int read_sections(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	size_t n, shstrndx;
	int ret;

	if (elf_getshdrnum(obj->elf, &n) || elf_getshdrstrndx(obj->elf, &shstrndx))
		return err_set(err, -EINVAL, -1, "cannot read the section table: %s",
			       elf_errmsg(-1));
	if (n < 2)
		return err_set(err, -EINVAL, -1, "the object has no sections");
	obj->secs = calloc(n, sizeof(*obj->secs));
	if (!obj->secs)
		return err_set(err, -ENOMEM, -1, "out of memory");
	obj->nsecs = n;
	obj->secs[0].name = "";
	obj->secs[0].map = -1;
	for (size_t i = 1; i < n; i++) {
		ret = read_section(obj, shstrndx, i, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- Symbols ----------------------------------------------------------------- */

static int read_symbols(struct bpfrt_obj *obj, Elf_Scn *scn, struct bpfrt_error *err)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Shdr sh;
	GElf_Sym s;
	size_t n;

	if (!d || !gelf_getshdr(scn, &sh) || !sh.sh_entsize)
		return err_set(err, -EINVAL, -1, "the symbol table cannot be read: %s",
			       elf_errmsg(-1));
	n = sh.sh_size / sh.sh_entsize;
	obj->syms = calloc(n ? n : 1, sizeof(*obj->syms));
	if (!obj->syms)
		return err_set(err, -ENOMEM, -1, "out of memory");
	obj->nsyms = n;
	for (size_t i = 0; i < n; i++) {
		struct ld_sym *y = &obj->syms[i];

		if (!gelf_getsym(d, (int)i, &s))
			return err_set(err, -EINVAL, -1, "symbol %zu cannot be read: %s",
				       i, elf_errmsg(-1));
		y->name = elf_strptr(obj->elf, sh.sh_link, s.st_name);
		if (!y->name)
			return err_set(err, -EINVAL, -1, "symbol %zu has no valid name", i);
		y->value = s.st_value;
		y->size = s.st_size;
		y->shndx = s.st_shndx;
		y->type = GELF_ST_TYPE(s.st_info);
		y->bind = GELF_ST_BIND(s.st_info);
		if (y->shndx >= obj->nsecs && y->shndx < SHN_LORESERVE)
			return err_set(err, -EINVAL, -1,
				       "symbol '%s' is in section %u, which does not exist",
				       y->name, y->shndx);
	}
	return 0;
}

static int find_symbols(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	Elf_Scn *symtab = NULL;

	for (size_t i = 1; i < obj->nsecs; i++) {
		if (obj->secs[i].type != SHT_SYMTAB)
			continue;
		if (symtab)
			return err_set(err, -EINVAL, -1, "the object has two symbol tables");
		symtab = elf_getscn(obj->elf, i);
	}
	if (!symtab)
		return err_set(err, -EINVAL, -1, "the object has no symbol table");
	return read_symbols(obj, symtab, err);
}

/* ---- Relocations --------------------------------------------------------------- */

static int cmp_rel(const void *a, const void *b)
{
	const struct ld_rel *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->no < y->no ? -1 : x->no > y->no;
}

static int read_rel(Elf_Data *d, bool rela, size_t i, struct ld_rel *r)
{
	GElf_Rela ra;
	GElf_Rel rl;

	if (rela) {
		if (!gelf_getrela(d, (int)i, &ra))
			return -1;
		rl.r_offset = ra.r_offset;
		rl.r_info = ra.r_info;
		r->addend = ra.r_addend;
	} else if (!gelf_getrel(d, (int)i, &rl)) {
		return -1;
	}
	r->off = rl.r_offset;
	r->sym = (uint32_t)GELF_R_SYM(rl.r_info);
	r->type = (uint32_t)GELF_R_TYPE(rl.r_info);
	r->rela = rela;
	r->no = (uint32_t)i;
	return 0;
}

/* Read relocation section scn, which applies to section target. */
static int read_rels(struct bpfrt_obj *obj, Elf_Scn *scn, const GElf_Shdr *sh,
		     struct ld_sec *target, struct bpfrt_error *err)
{
	bool rela = sh->sh_type == SHT_RELA;
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	if (!d || !sh->sh_entsize)
		return err_set(err, -EINVAL, -1,
			       "the relocations of section '%s' cannot be read: %s",
			       target->name, elf_errmsg(-1));
	if (target->rels)
		return err_set(err, -EINVAL, -1,
			       "section '%s' has two relocation sections", target->name);
	target->rels = calloc(n ? n : 1, sizeof(*target->rels));
	if (!target->rels)
		return err_set(err, -ENOMEM, -1, "out of memory");
	target->nrels = n;
	for (size_t i = 0; i < n; i++) {
		struct ld_rel *r = &target->rels[i];

		if (read_rel(d, rela, i, r))
			return err_set(err, -EINVAL, -1,
				       "relocation %zu of section '%s' cannot be read",
				       i, target->name);
		if (r->sym >= obj->nsyms)
			return err_set(err, -EINVAL, -1,
				       "relocation %zu of section '%s' refers to symbol "
				       "%u, but the symbol table has %zu", i,
				       target->name, r->sym, obj->nsyms);
		if (r->off >= target->size)
			return err_set(err, -EINVAL, -1,
				       "relocation %zu of section '%s' is at offset "
				       "%#llx, past the section's end (%#zx)", i,
				       target->name, (unsigned long long)r->off,
				       target->size);
	}
	qsort(target->rels, n, sizeof(*target->rels), cmp_rel);
	return 0;
}

/* Relocations that apply to code and to .maps; the others (debug info) are not ours. */
static int find_rels(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	for (size_t i = 1; i < obj->nsecs; i++) {
		Elf_Scn *scn;
		GElf_Shdr sh;
		struct ld_sec *t;
		int ret;

		if (obj->secs[i].type != SHT_REL && obj->secs[i].type != SHT_RELA)
			continue;
		scn = elf_getscn(obj->elf, i);
		if (!scn || !gelf_getshdr(scn, &sh))
			return err_set(err, -EINVAL, -1, "section %zu cannot be read", i);
		if (sh.sh_info >= obj->nsecs)
			return err_set(err, -EINVAL, -1,
				       "relocation section '%s' applies to section %u, "
				       "which does not exist", obj->secs[i].name, sh.sh_info);
		t = &obj->secs[sh.sh_info];
		if (t->kind != LD_SEC_PROG && t->kind != LD_SEC_MAPS)
			continue;
		if (sh.sh_link >= obj->nsecs || obj->secs[sh.sh_link].type != SHT_SYMTAB)
			return err_set(err, -EINVAL, -1,
				       "relocation section '%s' does not use the symbol table",
				       obj->secs[i].name);
		ret = read_rels(obj, scn, &sh, t, err);
		if (ret)
			return ret;
	}
	return 0;
}

const struct ld_rel *ld_rel_at(const struct ld_sec *sec, uint64_t off)
{
	size_t lo = 0, hi = sec->nrels;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sec->rels[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sec->nrels && sec->rels[lo].off == off ? &sec->rels[lo] : NULL;
}

/* ---- License and version ---------------------------------------------------------- */

static int read_meta(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	for (size_t i = 1; i < obj->nsecs; i++) {
		const struct ld_sec *s = &obj->secs[i];

		if (s->kind == LD_SEC_LICENSE && s->data && !obj->license) {
			obj->license = strndup((const char *)s->data, s->size);
			if (!obj->license)
				return err_set(err, -ENOMEM, -1, "out of memory");
		} else if (s->kind == LD_SEC_VERSION && s->data) {
			if (s->size != sizeof(uint32_t))
				return err_set(err, -EINVAL, -1,
					       "section 'version' is %zu bytes, not 4",
					       s->size);
			memcpy(&obj->kversion, s->data, sizeof(uint32_t));
		}
	}
	return 0;
}

/* ---- Entry points --------------------------------------------------------------------- */

int ld_elf_read(struct bpfrt_obj *obj, struct bpfrt_error *err)
{
	int ret;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return err_set(err, -EINVAL, -1, "libelf is unusable: %s", elf_errmsg(-1));
	obj->elf = elf_memory((char *)obj->image, obj->image_len);
	if (!obj->elf)
		return err_set(err, -EINVAL, -1, "not an ELF file: %s", elf_errmsg(-1));
	ret = check_header(obj->elf, err);
	if (!ret)
		ret = read_sections(obj, err);
	if (!ret)
		ret = find_symbols(obj, err);
	if (!ret)
		ret = find_rels(obj, err);
	if (!ret)
		ret = read_meta(obj, err);
	return ret;
}

void ld_elf_free(struct bpfrt_obj *obj)
{
	for (size_t i = 0; obj->secs && i < obj->nsecs; i++) {
		free(obj->secs[i].rels);
		free(obj->secs[i].lines);
		free(obj->secs[i].core);
	}
	free(obj->secs);
	free(obj->syms);
	free(obj->license);
	if (obj->elf)
		elf_end(obj->elf);
}
