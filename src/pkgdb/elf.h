/* SPDX-License-Identifier: Apache-2.0 */
/* A small bounds-checked ELF reader (ELF32 and ELF64, either byte order) over bytes already in
 * memory: sections by name, and virtual addresses mapped back to file bytes through the
 * PT_LOAD segments and the allocated sections. Used by the Go build-info and cargo-auditable
 * readers; private to src/pkgdb. Nothing is allocated. */
#ifndef VIGIL_PKGDB_ELF_H
#define VIGIL_PKGDB_ELF_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "base/str.h"

#define ELF_PT_LOAD        1u
#define ELF_PF_X           1u
#define ELF_PF_W           2u
#define ELF_SHT_NOBITS     8u
#define ELF_SHF_ALLOC      2u
#define ELF_SHF_COMPRESSED 0x800u

struct elf_file {
    struct str data; /* the whole file (borrowed) */
    bool is64;
    bool big_endian;
    uint16_t machine;
    uint64_t shoff, phoff;
    uint16_t shnum, shentsize, shstrndx;
    uint16_t phnum, phentsize;
    struct str shstrtab; /* section-name table; empty when there is none */
};

struct elf_section {
    struct str name; /* into the file's section-name table */
    uint32_t type;
    uint64_t flags, addr, offset, size;
};

struct elf_segment {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz, memsz;
};

/* Read the ELF header of data. Returns 1 when data starts with the ELF magic and the header,
 * section table and program-header table all lie inside data (e is then usable); 0 when data
 * is not ELF (nothing in d); <0 (-ERR_TRUNCATED or -ERR_CORRUPT) with the offset and reason
 * in d when it is ELF but broken. The message does not name a file: callers prefix it. */
int elf_open(struct elf_file *e, struct str data, struct diag *d);

/* Find the first section called name. 1 and *out when found, 0 when absent. */
int elf_section_by_name(const struct elf_file *e, const char *name, struct elf_section *out);

/* The bytes of section s: 0 and *out, or -ERR_TRUNCATED with d set when the section runs
 * past the end of the file. SHT_NOBITS sections give an empty slice. */
int elf_section_data(const struct elf_file *e, const struct elf_section *s, struct str *out,
                     struct diag *d);

/* Section i (0 <= i < e->shnum). false when i is out of range. */
bool elf_section_at(const struct elf_file *e, uint16_t i, struct elf_section *out);
/* Program header i (0 <= i < e->phnum). false when i is out of range. */
bool elf_segment_at(const struct elf_file *e, uint16_t i, struct elf_segment *out);

/* The n file bytes that virtual address addr maps to, through a PT_LOAD segment (file-backed
 * part only) or else an allocated, file-backed section that holds all n bytes. false when no
 * segment or section maps the whole range inside the file. */
bool elf_read_addr(const struct elf_file *e, uint64_t addr, uint64_t n, struct str *out);

/* Unsigned integer of width 1, 2, 4 or 8 at p in the given byte order. */
uint64_t elf_uint(const unsigned char *p, unsigned width, bool big_endian);

#endif
