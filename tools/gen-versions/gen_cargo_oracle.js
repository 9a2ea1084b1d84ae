#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Oracle for tests/data/versions/cargo.txt (run by gen_cargo.py): reads JSON lines ["A", "B"]
// on stdin and prints, per line, the sign of node-semver's strict compare(A, B) (SemVer 2.0
// precedence, which Cargo's version matching follows), or "invalid" when either side is not a
// strict SemVer 2.0 version or holds a number node-semver cannot represent exactly.
// Uses the `semver` package of tools/gen-versions/node_modules (see package.json there).
'use strict';

const path = require('path');
const readline = require('readline');
const semver = require(path.join(__dirname, 'node_modules', 'semver'));

function exact(v) {
    // node-semver's strict grammar also takes a leading "v" or "=", which Cargo does not
    if (!/^[0-9]/.test(v) || /\s/.test(v))
        return null;
    const p = semver.parse(v, { loose: false });
    if (!p || p.raw !== v)
        return null;
    // node-semver compares numeric prerelease identifiers as doubles: keep only exact ones
    for (const id of p.prerelease)
        if (typeof id === 'string' && /^[0-9]+$/.test(id))
            return null;
    return p;
}

const rl = readline.createInterface({ input: process.stdin });
const out = [];
rl.on('line', (line) => {
    const [a, b] = JSON.parse(line);
    const pa = exact(a), pb = exact(b);
    out.push(pa && pb ? String(semver.compare(pa, pb)) : 'invalid');
});
rl.on('close', () => process.stdout.write(out.join('\n') + (out.length ? '\n' : '')));
