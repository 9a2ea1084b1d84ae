# SPDX-License-Identifier: Apache-2.0
"""Alpine (apk-tools) version ordering in Python: the oracle of tests/data/versions/apk.txt.

apk itself cannot be installed here, so this is a separate implementation written from
apk-tools' documentation of the version format (apk-package(5)):

    number{.number}...{letter}{_suffix{number}}...{~hash}{-r#}

    * number: digits; the letter: one of a-z, only after the numbers;
    * suffixes, in sort order: alpha beta pre rc <no suffix> cvs svn git hg p, each with
      an optional number;
    * ~hash: lower-case hex digits (commit the package was built from);
    * -r#: the package build number.

and from apk-tools' behaviour where the manual says nothing (its test vectors and release
notes): the first number compares numerically; a later '.'-number compares numerically
unless one of the two has a leading zero, in which case both compare as strings (so
1.05 < 1.1 and 1.05 < 1.050); the hash compares as a string; a version that stops where
the other goes on is older, unless the other goes on with a pre-release suffix; a string
that stops matching the format is older still at that point, and two strings that stop
matching at the same point (after equal parts) are equal in apk-tools.

That last case happens in real advisories ("1.9.5p1-r0" against "1.9.5p2-r0"), so vigil
refines it (this is our own rule, not apk-tools'): the rests of the two strings from the
point where they stop matching are compared as sequences of digit runs (by value) and
single other bytes (by value), a digit run below any other byte, and a rest that runs out
first below the other. Every result apk-tools gives is kept.

It is written as a sort key (a list of comparable tuples per version), unlike the C code's
pairwise token stream, so the two do not share mistakes by construction.
"""

import re

PRE = ["alpha", "beta", "pre", "rc"]
POST = ["cvs", "svn", "git", "hg", "p"]

# Rank of each kind of part when two versions disagree on the kind at some position:
# higher rank = newer. A pre-release suffix is below everything, the end of the version
# below any real part, an invalid rest below the end.
R_PRE, R_INVALID, R_END, R_REV, R_HASH, R_SUFNO, R_SUFFIX, R_LETTER, R_DIGIT, R_FIRST = range(10)

_first = re.compile(r"[0-9]+")
_dot = re.compile(r"\.([0-9]+)")
_letter = re.compile(r"[a-z]")
_suffix = re.compile(r"_([a-z]*)")
_sufno = re.compile(r"[0-9]+")
_hash = re.compile(r"~([0-9a-f]+)")
_rev = re.compile(r"-r([0-9]+)")

# which parts may follow which (the format above, read left to right)
_STAGES = ["first", "dot", "letter", "suffix", "sufno", "hash", "rev"]


_tail = re.compile(rb"[0-9]+|.", re.S)


def tail_key(rest):
    """Sort key of the rest of a string that stopped matching the format."""
    b = rest.encode("utf-8", "surrogateescape")
    return [(0, int(t)) if t[:1].isdigit() else (1, t[0]) for t in _tail.findall(b)]


def parts(v):
    """List of (rank, value) tuples ending with an END or INVALID part."""
    out = []
    m = _first.match(v)
    if not m:
        return [(R_INVALID, tail_key(v))]
    out.append((R_FIRST, int(m.group(0))))
    pos = m.end()
    stage = "first"
    while pos < len(v):
        if stage in ("first", "dot") and (m := _dot.match(v, pos)):
            s = m.group(1)
            # leading zero: string order, below every number without one
            out.append((R_DIGIT, (0, s, 0) if s[0] == "0" else (1, "", int(s))))
            stage = "dot"
        elif stage in ("first", "dot") and (m := _letter.match(v, pos)):
            out.append((R_LETTER, m.group(0)))
            stage = "letter"
        elif stage in ("first", "dot", "letter", "suffix", "sufno") and \
                (m := _suffix.match(v, pos)):
            name = m.group(1)
            if name in PRE:
                out.append((R_PRE, PRE.index(name)))
            elif name in POST:
                out.append((R_SUFFIX, POST.index(name)))
            else:
                break
            stage = "suffix"
        elif stage == "suffix" and (m := _sufno.match(v, pos)):
            out.append((R_SUFNO, int(m.group(0))))
            stage = "sufno"
        elif stage in ("first", "dot", "letter", "suffix", "sufno") and (m := _hash.match(v, pos)):
            out.append((R_HASH, m.group(1)))
            stage = "hash"
        elif stage != "rev" and (m := _rev.match(v, pos)):
            out.append((R_REV, int(m.group(1))))
            stage = "rev"
        else:
            break
        pos = m.end()
    else:
        out.append((R_END, 0))
        return out
    out.append((R_INVALID, tail_key(v[pos:])))
    return out


def is_valid(v):
    return parts(v)[-1][0] == R_END


def compare(a, b):
    ka, kb = parts(a), parts(b)
    return (ka > kb) - (ka < kb)
