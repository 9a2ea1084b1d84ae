/* SPDX-License-Identifier: Apache-2.0 */
/* Bounds-checked ELF32/ELF64 reader: every table and every range is checked against the file
 * size before it is read, with 64-bit arithmetic that cannot wrap. */
#include "elf.h"

#include <string.h>

#define EHDR32_SIZE 52u
#define EHDR64_SIZE 64u
#define SHDR32_SIZE 40u
#define SHDR64_SIZE 64u
#define PHDR32_SIZE 32u
#define PHDR64_SIZE 56u

uint64_t elf_uint(const unsigned char *p, unsigned width, bool big_endian)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        unsigned idx = big_endian ? i : width - 1 - i;
        v = v << 8 | p[idx];
    }
    return v;
}

static uint64_t rd(const struct elf_file *e, uint64_t off, unsigned width)
{
    return elf_uint((const unsigned char *)e->data.ptr + off, width, e->big_endian);
}

/* Does [off, off + n) lie inside a file of size len? (no overflow) */
static bool in_file(uint64_t len, uint64_t off, uint64_t n)
{
    return off <= len && n <= len - off;
}

int elf_open(struct elf_file *e, struct str data, struct diag *d)
{
    memset(e, 0, sizeof(*e));
    if (data.len < 4 || memcmp(data.ptr,
                               "\x7f"
                               "ELF",
                               4) != 0)
        return 0;
    if (data.len < 16)
        return diag_set(d, -ERR_TRUNCATED, data.len, "ELF identification cut short at %zu bytes",
                        data.len);
    const unsigned char *id = (const unsigned char *)data.ptr;
    if (id[4] != 1 && id[4] != 2)
        return diag_set(d, -ERR_CORRUPT, 4, "ELF class %u at offset 4 is neither 32 nor 64 bit",
                        id[4]);
    if (id[5] != 1 && id[5] != 2)
        return diag_set(d, -ERR_CORRUPT, 5, "ELF data encoding %u at offset 5 is unknown", id[5]);
    e->data = data;
    e->is64 = id[4] == 2;
    e->big_endian = id[5] == 2;
    size_t ehsize = e->is64 ? EHDR64_SIZE : EHDR32_SIZE;
    if (data.len < ehsize)
        return diag_set(d, -ERR_TRUNCATED, data.len, "ELF header cut short at %zu of %zu bytes",
                        data.len, ehsize);
    e->machine = (uint16_t)rd(e, 18, 2);
    if (e->is64) {
        e->phoff = rd(e, 32, 8);
        e->shoff = rd(e, 40, 8);
        e->phentsize = (uint16_t)rd(e, 54, 2);
        e->phnum = (uint16_t)rd(e, 56, 2);
        e->shentsize = (uint16_t)rd(e, 58, 2);
        e->shnum = (uint16_t)rd(e, 60, 2);
        e->shstrndx = (uint16_t)rd(e, 62, 2);
    } else {
        e->phoff = rd(e, 28, 4);
        e->shoff = rd(e, 32, 4);
        e->phentsize = (uint16_t)rd(e, 42, 2);
        e->phnum = (uint16_t)rd(e, 44, 2);
        e->shentsize = (uint16_t)rd(e, 46, 2);
        e->shnum = (uint16_t)rd(e, 48, 2);
        e->shstrndx = (uint16_t)rd(e, 50, 2);
    }
    /* Extended section numbering (e_shnum 0, the count in section 0) only matters past 65279
     * sections; such a table is treated as absent. */
    if (e->shoff == 0)
        e->shnum = 0;
    if (e->phoff == 0)
        e->phnum = 0;

    unsigned shmin = e->is64 ? SHDR64_SIZE : SHDR32_SIZE;
    unsigned phmin = e->is64 ? PHDR64_SIZE : PHDR32_SIZE;
    if (e->shnum) {
        if (e->shentsize < shmin)
            return diag_set(d, -ERR_CORRUPT, e->is64 ? 58 : 46,
                            "ELF section header size %u is below %u", e->shentsize, shmin);
        if (!in_file(data.len, e->shoff, (uint64_t)e->shnum * e->shentsize))
            return diag_set(d, -ERR_TRUNCATED, data.len,
                            "ELF section table (%u entries at offset %llu) runs past the end of "
                            "the file (%zu bytes)",
                            e->shnum, (unsigned long long)e->shoff, data.len);
    }
    if (e->phnum) {
        if (e->phentsize < phmin)
            return diag_set(d, -ERR_CORRUPT, e->is64 ? 54 : 42,
                            "ELF program header size %u is below %u", e->phentsize, phmin);
        if (!in_file(data.len, e->phoff, (uint64_t)e->phnum * e->phentsize))
            return diag_set(d, -ERR_TRUNCATED, data.len,
                            "ELF program headers (%u entries at offset %llu) run past the end "
                            "of the file (%zu bytes)",
                            e->phnum, (unsigned long long)e->phoff, data.len);
    }
    e->shstrtab = STR_NULL;
    if (e->shnum && e->shstrndx < e->shnum) {
        struct elf_section s;
        if (elf_section_at(e, e->shstrndx, &s) && s.type != ELF_SHT_NOBITS) {
            if (!in_file(data.len, s.offset, s.size))
                return diag_set(d, -ERR_TRUNCATED, data.len,
                                "ELF section-name table at offset %llu (%llu bytes) runs past "
                                "the end of the file (%zu bytes)",
                                (unsigned long long)s.offset, (unsigned long long)s.size, data.len);
            e->shstrtab = str_make(data.ptr + s.offset, (size_t)s.size);
        }
    }
    return 1;
}

bool elf_section_at(const struct elf_file *e, uint16_t i, struct elf_section *out)
{
    if (i >= e->shnum)
        return false;
    uint64_t o = e->shoff + (uint64_t)i * e->shentsize;
    uint32_t name;
    memset(out, 0, sizeof(*out));
    if (e->is64) {
        name = (uint32_t)rd(e, o, 4);
        out->type = (uint32_t)rd(e, o + 4, 4);
        out->flags = rd(e, o + 8, 8);
        out->addr = rd(e, o + 16, 8);
        out->offset = rd(e, o + 24, 8);
        out->size = rd(e, o + 32, 8);
    } else {
        name = (uint32_t)rd(e, o, 4);
        out->type = (uint32_t)rd(e, o + 4, 4);
        out->flags = rd(e, o + 8, 4);
        out->addr = rd(e, o + 12, 4);
        out->offset = rd(e, o + 16, 4);
        out->size = rd(e, o + 20, 4);
    }
    out->name = STR_NULL;
    if (name < e->shstrtab.len) {
        const char *p = e->shstrtab.ptr + name;
        const char *z = memchr(p, '\0', e->shstrtab.len - name);
        if (z)
            out->name = str_make(p, (size_t)(z - p));
    }
    return true;
}

bool elf_segment_at(const struct elf_file *e, uint16_t i, struct elf_segment *out)
{
    if (i >= e->phnum)
        return false;
    uint64_t o = e->phoff + (uint64_t)i * e->phentsize;
    if (e->is64) {
        out->type = (uint32_t)rd(e, o, 4);
        out->flags = (uint32_t)rd(e, o + 4, 4);
        out->offset = rd(e, o + 8, 8);
        out->vaddr = rd(e, o + 16, 8);
        out->filesz = rd(e, o + 32, 8);
        out->memsz = rd(e, o + 40, 8);
    } else {
        out->type = (uint32_t)rd(e, o, 4);
        out->offset = rd(e, o + 4, 4);
        out->vaddr = rd(e, o + 8, 4);
        out->filesz = rd(e, o + 16, 4);
        out->memsz = rd(e, o + 20, 4);
        out->flags = (uint32_t)rd(e, o + 24, 4);
    }
    return true;
}

int elf_section_by_name(const struct elf_file *e, const char *name, struct elf_section *out)
{
    for (uint16_t i = 0; i < e->shnum; i++) {
        struct elf_section s;
        if (elf_section_at(e, i, &s) && str_eq_cstr(s.name, name)) {
            *out = s;
            return 1;
        }
    }
    return 0;
}

int elf_section_data(const struct elf_file *e, const struct elf_section *s, struct str *out,
                     struct diag *d)
{
    if (s->type == ELF_SHT_NOBITS) {
        *out = str_make(e->data.ptr, 0);
        return 0;
    }
    if (!in_file(e->data.len, s->offset, s->size))
        return diag_set(d, -ERR_TRUNCATED, e->data.len,
                        "ELF section '%.*s' at offset %llu (%llu bytes) runs past the end of "
                        "the file (%zu bytes)",
                        STR_FMT(s->name), (unsigned long long)s->offset,
                        (unsigned long long)s->size, e->data.len);
    *out = str_make(e->data.ptr + s->offset, (size_t)s->size);
    return 0;
}

/* Map [addr, addr + n) within a region [base, base + size) stored at file offset off. */
static bool map_range(const struct elf_file *e, uint64_t base, uint64_t size, uint64_t off,
                      uint64_t addr, uint64_t n, struct str *out)
{
    if (addr < base || addr - base > size || n > size - (addr - base))
        return false;
    uint64_t at = off + (addr - base);
    if (at < off || !in_file(e->data.len, at, n))
        return false;
    *out = str_make(e->data.ptr + at, (size_t)n);
    return true;
}

bool elf_read_addr(const struct elf_file *e, uint64_t addr, uint64_t n, struct str *out)
{
    for (uint16_t i = 0; i < e->phnum; i++) {
        struct elf_segment p;
        if (elf_segment_at(e, i, &p) && p.type == ELF_PT_LOAD &&
            map_range(e, p.vaddr, p.filesz, p.offset, addr, n, out))
            return true;
    }
    for (uint16_t i = 0; i < e->shnum; i++) {
        struct elf_section s;
        if (elf_section_at(e, i, &s) && (s.flags & ELF_SHF_ALLOC) && s.type != ELF_SHT_NOBITS &&
            map_range(e, s.addr, s.size, s.offset, addr, n, out))
            return true;
    }
    return false;
}
