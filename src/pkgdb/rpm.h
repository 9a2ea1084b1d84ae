/* SPDX-License-Identifier: Apache-2.0 */
/* rpm database readers, written from the formats without librpm: the header blob every
 * backend stores, and the three backends images carry: sqlite (rpm >= 4.16: RHEL/Rocky/Alma
 * 9, Fedora 33+), Berkeley DB hash (RHEL/CentOS 7 and 8, Amazon Linux 2) and ndb (SUSE). */
#ifndef VIGIL_PKGDB_RPM_H
#define VIGIL_PKGDB_RPM_H

#include "base/arena.h"
#include "base/err.h"
#include "base/str.h"
#include "pkg.h"

/* Largest header blob accepted (rpm's own limit on a header's data store is 256 MiB; real
 * headers are a few KB to a few MB). */
#define RPM_HEADER_MAX (64u << 20)

/* Parse one rpm header blob as the databases store it (big-endian index-entry count, data
 * size, 16-byte index entries, data store; an 8-byte "\x8e\xad\xe8\x01" header magic in
 * front, as in .rpm files, is skipped) and append one PKG_RPM struct pkg to `out`, or none
 * for a gpg-pubkey pseudo-package (an imported signing key, not software).
 * From the tags: name NAME; version "[EPOCH:]VERSION-RELEASE" with the epoch only when the
 * EPOCH tag exists (has_epoch, even for 0); upstream VERSION; release RELEASE; arch ARCH ("" if
 * absent); license LICENSE; maintainer VENDOR (rpm has no maintainer tag; "" if absent);
 * SOURCERPM "name-ver-rel.src.rpm" gives src_name and src_version "[EPOCH:]ver-rel" (the
 * package's epoch: a source rpm name carries none); without a usable SOURCERPM src_name =
 * name and src_version = version. Every offset and count is checked against the blob before
 * use. Strings (db_path too) are copied into `a`; layer is -1.
 * Returns 0, or (out unchanged, message in d):
 *   -ERR_TRUNCATED  blob shorter than its own index and data sizes say
 *   -ERR_TOO_BIG    more index entries or data than the caps (65535 entries, 64 MiB)
 *   -ERR_CORRUPT    an entry pointing outside the data store, a string without its NUL, a
 *                   NAME/VERSION/RELEASE that is missing, empty or of the wrong type */
int rpm_parse_header(struct str blob, const char *db_path, struct arena *a, struct pkg_list *out,
                     struct diag *d);

/* Parse an rpmdb.sqlite (table Packages(hnum, blob)) held in memory, plus the bytes of its
 * rpmdb.sqlite-wal (STR_NULL or empty when there is none). The file is never touched: the
 * database is copied, the committed transactions of the WAL are applied to the copy (frames
 * with matching salts and checksums up to the last commit frame; a WAL whose header does not
 * check out is ignored, as SQLite ignores it), the copy is marked as a rollback-journal
 * database and opened read-only with sqlite3_deserialize (defensive mode, no triggers or
 * views, values no longer than the image, a bound on VM steps). Packages come in hnum order.
 * Known limit: Debian 12's SQLite 3.40 does not check a record's claimed length against the
 * database size before allocating a buffer for it (later SQLite does), so a corrupt database
 * can make SQLite malloc up to ~2 GiB briefly (never touched, freed at once) before it
 * reports the corruption.
 * Returns 0, or (out unchanged, message in d): -ERR_TOO_BIG (over 512 MiB), -ERR_CORRUPT (not
 * SQLite, no Packages table, SQLite reports corruption, a WAL commit claiming more pages
 * than the database and the log hold, a Packages.blob value that is not a BLOB),
 * -ERR_DB (another SQLite failure), or a header error from rpm_parse_header. */
int rpm_parse_sqlite(struct str db_bytes, struct str wal_bytes, const char *db_path,
                     struct arena *a, struct pkg_list *out, struct diag *d);

/* Parse a Berkeley DB hash "Packages" file held in memory (either byte order, page sizes 512
 * to 64 KiB, values on hash pages or in overflow-page chains): walk every bucket's page
 * chain; each record's value is a header blob. The key-0 record (where rpm kept its instance
 * counter) is skipped. Packages come in bucket order.
 * Returns 0, or (out unchanged, message in d): -ERR_TOO_BIG (over 512 MiB), -ERR_UNSUPPORTED
 * (a B-tree database, an unknown hash version, encryption, checksummed pages),
 * -ERR_TRUNCATED (a page beyond the end of the data), -ERR_CORRUPT (bad metadata, a page of
 * the wrong type or number, an item outside its page, a loop in a page chain), or a header
 * error from rpm_parse_header. */
int rpm_parse_bdb(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                  struct diag *d);

/* Parse an rpm ndb "Packages.db" held in memory: the slot pages list (package index, block
 * offset, block count) for each package; each blob is checked (head and tail magic, index,
 * length, Adler-32) before its header is parsed. Packages come in slot order.
 * Returns 0, or (out unchanged, message in d): -ERR_TOO_BIG, -ERR_UNSUPPORTED (a format
 * version other than 0), -ERR_TRUNCATED, -ERR_CORRUPT (bad magic, a slot or blob out of
 * bounds or inconsistent, a checksum mismatch), or a header error from rpm_parse_header. */
int rpm_parse_ndb(struct str data, const char *db_path, struct arena *a, struct pkg_list *out,
                  struct diag *d);

#endif
