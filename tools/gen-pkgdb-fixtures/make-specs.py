#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Write small rpm spec files (synthetic contents) that exercise what the rpmdb readers must get
# right: an explicit Epoch of 0, a non-zero epoch, sub-packages whose SOURCERPM names another
# source package, noarch, a long license string, a missing Vendor, and one header large enough
# (a ~24 KB description) to need a chain of Berkeley DB overflow pages.
import os
import sys

out = sys.argv[1]
# source name, epoch, version, release, arch, vendor, license, binary packages, big description
SRC = [
    ("zeroepoch", "0", "1.0", "1.el9", "x86_64", "vigil fixtures", "MIT", ["zeroepoch"], False),
    ("libexample", "2", "3.4.5", "6.el9_2", "x86_64", "vigil fixtures",
     "GPL-2.0-or-later AND LGPL-2.1-or-later", ["libexample", "libexample-devel"], False),
    ("data-files", "", "20240101", "1.el9", "noarch", "", "Public Domain", ["data-files"], False),
    ("bigheader", "", "0.9.1~rc2", "0.3.el9", "x86_64", "vigil fixtures", "BSD-3-Clause",
     ["bigheader"], True),
]

for src, epoch, ver, rel, arch, vendor, lic, bins, big in SRC:
    s = ["Name: " + src]
    if epoch:
        s.append("Epoch: " + epoch)
    s += ["Version: " + ver, "Release: " + rel, "Summary: vigil test fixture (synthetic)",
          "License: " + lic, "BuildArch: " + arch]
    if vendor:
        s.append("Vendor: " + vendor)
    s += ["%global debug_package %{nil}", "%global __os_install_post %{nil}",
          "%global _build_id_links none", "", "%description"]
    if big:
        # 600 lines of ~40 bytes: the header grows past 24 KB
        s += ["Line %04d of a deliberately long description." % i for i in range(600)]
    else:
        s.append("Synthetic package for vigil's rpmdb parser tests.")
    s.append("")
    for b in bins:
        if b != src:
            s += ["%package -n " + b, "Summary: vigil test fixture sub-package", "",
                  "%description -n " + b, "Synthetic sub-package.", ""]
    s.append("%install")
    for b in bins:
        s += ["mkdir -p %%{buildroot}/usr/share/doc/%s" % b,
              "echo 'placeholder for %s' > %%{buildroot}/usr/share/doc/%s/README" % (b, b)]
    s.append("")
    for b in bins:
        s.append("%files" if b == src else "%files -n " + b)
        s += ["/usr/share/doc/%s/README" % b, ""]
    with open(os.path.join(out, src + ".spec"), "w") as f:
        f.write("\n".join(s))
