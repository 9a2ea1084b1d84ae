# SPDX-License-Identifier: Apache-2.0
"""NuGet version ordering written from NuGet's documentation ("Package versioning": version
numbers of one to four parts, normalisation of leading zeros and of a fourth part of 0,
pre-release labels compared by SemVer 2.0 precedence, case-insensitively, build metadata
ignored). No NuGet tooling exists in Debian 12, so this is an independent re-statement of
those rules (a sort key, not a comparison loop) used as the oracle of
tests/data/versions/nuget.txt; it is not NuGet's own code.

Choices where the documentation is silent, shared with src/version/nuget.c: numeric labels
with leading zeros are accepted and compared by value; numbers are compared exactly at any
size; strings that are not versions sort below every version and among themselves by their
UTF-8 bytes.
"""

import re

_VERSION = re.compile(r"([0-9]+(?:\.[0-9]+){0,3})"
                      r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
                      r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")


def key(v):
    """A tuple that sorts like the version."""
    m = _VERSION.fullmatch(v)
    if not m:
        return (0, v.encode("utf-8", "surrogateescape"))
    nums = [int(x) for x in m.group(1).split(".")]
    nums += [0] * (4 - len(nums))
    labels = m.group(2)
    if labels is None:
        return (1, tuple(nums), 1, ())
    lk = tuple((0, int(p), "") if p.isdigit() else (1, 0, p.upper()) for p in labels.split("."))
    return (1, tuple(nums), 0, lk)


def compare(a, b):
    ka, kb = key(a), key(b)
    return (ka > kb) - (ka < kb)
