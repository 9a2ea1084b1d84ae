#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Generate tests/data/versions/npm.txt: pairs of real npm versions with the result of
// node-semver's compare(a, b, loose=true), the comparison npm itself uses.
//
//     (cd tools/gen-versions && npm ci) && node tools/gen-versions/gen_npm.js
//
// The oracle is the `semver` package pinned in tools/gen-versions/package.json (and its
// package-lock.json); node_modules is not committed. Versions: ../shared/vulndb/osv/npm.jsonl.gz
// (SEMVER/ECOSYSTEM range events other than the "0" sentinel, and `versions` lists, grouped by
// package; override the directory with VIGIL_SHARED) and the installed packages of the
// node-app test image (app/package-lock.json and node_modules/**/package.json read from the
// layers of the OCI layout in VIGIL_IMAGES, default build/test-images; without it they are
// left out). Pairs are chosen with a fixed seed, so the same data gives the same table.
// Pairs the oracle rejects (invalid versions) are dropped and counted in the header, and so
// are pairs holding a numeric prerelease identifier of 2^53-1 or more, which node-semver
// compares as doubles (not a total order; src/version/npm.c compares them exactly).
// Table format: see tools/gen-versions/common.py.
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const semver = require(path.join(__dirname, 'node_modules', 'semver'));

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SHARED = process.env.VIGIL_SHARED || path.join(REPO_ROOT, '..', 'shared');
const IMAGES = process.env.VIGIL_IMAGES || path.join(__dirname, '..', '..', 'build', 'test-images');
const OUT = path.join(REPO_ROOT, 'tests', 'data', 'versions', 'npm.txt');
const SEED = 20250219;

function log(...args) {
    process.stderr.write(args.join(' ') + '\n');
}

// ---- deterministic random numbers (mulberry32) --------------------------------------------

function makeRng(seed) {
    let s = seed >>> 0;
    const next = () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return {
        random: next,
        int: (n) => Math.floor(next() * n),
        choice(arr) {
            return arr[Math.floor(next() * arr.length)];
        },
        shuffle(arr) {
            for (let i = arr.length - 1; i > 0; i--) {
                const j = Math.floor(next() * (i + 1));
                [arr[i], arr[j]] = [arr[j], arr[i]];
            }
            return arr;
        },
    };
}

// ---- table format (as tools/gen-versions/common.py writes it) ------------------------------

function escapeField(v) {
    const bytes = Buffer.from(v, 'utf8');
    let out = '';
    for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i];
        if (b === 0x5c) out += '\\\\';
        else if (b === 0x09) out += '\\t';
        else if (b === 0x0a) out += '\\n';
        else if (b === 0x0d) out += '\\r';
        else if (b < 0x20 || b >= 0x7f || (i === 0 && b === 0x23))
            out += '\\x' + b.toString(16).padStart(2, '0');
        else out += String.fromCharCode(b);
    }
    return out;
}

// ---- real version data -------------------------------------------------------------------

function addTo(groups, name, v) {
    if (typeof v !== 'string' || v === '') return;
    if (!groups.has(name)) groups.set(name, new Set());
    groups.get(name).add(v);
}

function osvGroups() {
    const file = path.join(SHARED, 'vulndb', 'osv', 'npm.jsonl.gz');
    const text = zlib.gunzipSync(fs.readFileSync(file)).toString('utf8');
    const groups = new Map();
    for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        const rec = JSON.parse(line);
        for (const aff of rec.affected || []) {
            const pkg = aff.package || {};
            if (pkg.ecosystem !== 'npm') continue;
            for (const rng of aff.ranges || []) {
                if (rng.type !== 'SEMVER' && rng.type !== 'ECOSYSTEM') continue;
                for (const ev of rng.events || [])
                    for (const [k, v] of Object.entries(ev))
                        if (!(k === 'introduced' && v === '0')) addTo(groups, pkg.name, v);
            }
            for (const v of aff.versions || []) addTo(groups, pkg.name, v);
        }
    }
    return groups;
}

// Minimal tar reader (ustar, GNU long names, pax path records): yields {name, data}.
function* tarFiles(buf) {
    let off = 0;
    let longName = null;
    while (off + 512 <= buf.length) {
        const h = buf.subarray(off, off + 512);
        if (h.every((b) => b === 0)) break;
        const str = (a, n) => {
            const s = h.subarray(a, a + n);
            const z = s.indexOf(0);
            return s.subarray(0, z < 0 ? n : z).toString('utf8');
        };
        const size = parseInt(str(124, 12).trim() || '0', 8);
        const type = String.fromCharCode(h[156] || 0x30);
        let name = str(0, 100);
        if (str(257, 5) === 'ustar' && str(345, 155)) name = str(345, 155) + '/' + name;
        const data = buf.subarray(off + 512, off + 512 + size);
        off += 512 + Math.ceil(size / 512) * 512;
        if (type === 'L') {
            longName = data.toString('utf8').replace(/\0.*$/s, '');
            continue;
        }
        if (type === 'x') {
            const m = /\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
            if (m) longName = m[1];
            continue;
        }
        if (longName !== null) {
            name = longName;
            longName = null;
        }
        if (type === '0' || type === '\0') yield { name: name.replace(/^\.?\//, ''), data };
    }
}

// {name: Set(versions)} of the packages installed in the node-app image.
function imageGroups() {
    const groups = new Map();
    const indexPath = path.join(IMAGES, 'index.json');
    if (!fs.existsSync(indexPath)) {
        log(`note: no OCI layout at ${IMAGES} (set VIGIL_IMAGES); skipping image data`);
        return groups;
    }
    const blob = (dg) => path.join(IMAGES, 'blobs', ...dg.split(':'));
    const index = JSON.parse(fs.readFileSync(indexPath, 'utf8'));
    for (const desc of index.manifests || []) {
        const ref = (desc.annotations || {})['org.opencontainers.image.ref.name'] || '';
        if (!ref.startsWith('node-app:')) continue;
        const m = JSON.parse(fs.readFileSync(blob(desc.digest), 'utf8'));
        for (const layer of m.layers || []) {
            if (!/gzip/.test(layer.mediaType)) continue;
            const tar = zlib.gunzipSync(fs.readFileSync(blob(layer.digest)));
            for (const f of tarFiles(tar)) {
                if (/(^|\/)node_modules\/.*package\.json$/.test(f.name)) {
                    let pj;
                    try {
                        pj = JSON.parse(f.data.toString('utf8'));
                    } catch (e) {
                        continue;
                    }
                    if (pj && typeof pj.name === 'string') addTo(groups, pj.name, pj.version);
                } else if (/(^|\/)package-lock\.json$/.test(f.name)) {
                    const lock = JSON.parse(f.data.toString('utf8'));
                    for (const [key, p] of Object.entries(lock.packages || {})) {
                        const i = key.lastIndexOf('node_modules/');
                        if (i < 0) continue;
                        addTo(groups, p.name || key.slice(i + 13), p.version);
                    }
                }
            }
        }
    }
    return groups;
}

// ---- choosing pairs ----------------------------------------------------------------------

const parseLoose = (v) => semver.parse(v, { loose: true });

// A rough order that puts close versions next to each other (the oracle decides the real
// order): valid versions by semver, the others first, by string.
function roughCmp(a, b) {
    const pa = parseLoose(a), pb = parseLoose(b);
    if (pa && pb) return pa.compare(pb) || (a < b ? -1 : a > b ? 1 : 0);
    if (!pa !== !pb) return pa ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
}

class PairSet {
    constructor(rng) {
        this.rng = rng;
        this.seen = new Set();
        this.sections = [];
    }
    section(name, desc) {
        this.sections.push({ name, desc, rows: [] });
    }
    cur() {
        return this.sections[this.sections.length - 1].rows;
    }
    add(a, b) {
        const key = a <= b ? a + '\0' + b : b + '\0' + a;
        if (this.seen.has(key)) return false;
        this.seen.add(key);
        if (a !== b && this.rng.random() < 0.5) [a, b] = [b, a];
        this.cur().push([a, b]);
        return true;
    }
    count() {
        return this.sections.reduce((n, s) => n + s.rows.length, 0);
    }
}

// Hand-picked edge cases (not from the data): loose prefixes, missing '-', leading zeros,
// long prerelease lists, numbers next to words, build metadata, white space, the patch
// backtracking of the loose pattern ("1.2.34.5" is 1.2.3-4.5), MAX_SAFE_INTEGER, and
// strings node-semver rejects (dropped by the oracle, counted).
const EDGE = [
    '0.0.0', '0.0.1', '0.1.0', '1.0.0', '1.0.1', '1.1.0', '2.0.0', '10.0.0', '1.10.0', '1.2.10',
    'v1.0.0', '=1.0.0', 'v=1.0.0', '=v1.0.0', ' 1.0.0 ', 'v 1.0.0', '\t1.0.0\n', '\u00a01.0.0',
    '1.0.0\ufeff', '01.0.0', '1.00.0', '1.0.00', '1.0.0+build', '1.0.0+build.2', '1.0.0+0',
    '1.0.0-0', '1.0.0-00', '1.0.0-1', '1.0.0-01', '1.0.0-2', '1.0.0-10', '1.0.0-a', '1.0.0-A',
    '1.0.0-a.1', '1.0.0-a.b', '1.0.0-a.1.1', '1.0.0-alpha', '1.0.0alpha', '1.0.0-alpha.0',
    '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11',
    '1.0.0-rc.1', '1.0.0-rc1', '1.0.0-rc10', '1.0.0-rc2', '1.0.0-1a', '1.0.0-a1', '1.0.0--',
    '1.0.0-', '1.0.0-.a', '1.0.0---a', '1.0.0-x-y', '1.0.0-0.0', '1.0.0-0.a', '1.0.0-9.9.9',
    '1.0.0-999999999999999', '1.0.0-9007199254740990', '1.0.0-Z', '1.0.0-z', '1.0.0-~',
    '1.2.34.5', '1.2.345.6', '1.2.3-4.5', '1.2.34-5.6', '1.2.3.4', '1.2', '1', '', 'v',
    'x.y.z', '1.0.0-a..b', '1.0.0+', '1.0.0+a+b', '1.0.0 beta', '9007199254740991.0.0',
    '9007199254740992.0.0', '0.9007199254740991.9007199254740991', '1.0.0-\u00e9',
    '00000000000000000000001.0.0', '1.0.0-00000000000000000000001',
];

function main() {
    const rng = makeRng(SEED);
    const osv = osvGroups();
    const img = imageGroups();
    const groups = new Map(osv);
    for (const [n, vs] of img) for (const v of vs) addTo(groups, n, v);
    const allVersions = [...new Set([...groups.values()].flatMap((s) => [...s]))].sort();
    const imgCount = [...img.values()].reduce((n, s) => n + s.size, 0);
    log(`npm: ${osv.size} OSV packages, ${img.size} installed packages (${imgCount} versions), ` +
        `${allVersions.length} distinct versions`);

    const ps = new PairSet(rng);
    const names = [...groups.keys()].filter((n) => groups.get(n).size >= 2).sort();

    ps.section('same-package-adjacent', 'neighbouring versions of one package');
    const adjacent = [];
    for (const n of names) {
        const vs = [...groups.get(n)].sort(roughCmp);
        for (let i = 0; i + 1 < vs.length; i++) adjacent.push([vs[i], vs[i + 1]]);
    }
    for (const [a, b] of rng.shuffle(adjacent)) ps.add(a, b);

    ps.section('same-package-random', 'two random versions of one package');
    const weighted = names.flatMap((n) => Array(groups.get(n).size).fill(n));
    for (let tries = 0; ps.cur().length < 5500 && tries < 5500 * 20; tries++) {
        const vs = [...groups.get(rng.choice(weighted))].sort();
        const a = rng.choice(vs), b = rng.choice(vs);
        if (a !== b) ps.add(a, b);
    }

    ps.section('same-package-prerelease',
        'versions of one package or of one major.minor.patch where at least one is a prerelease');
    const byMain = new Map();
    for (const v of allVersions) {
        const p = parseLoose(v);
        if (!p) continue;
        const k = `${p.major}.${p.minor}.${p.patch}`;
        if (!byMain.has(k)) byMain.set(k, []);
        byMain.get(k).push(v);
    }
    for (const vs of byMain.values()) {
        if (vs.length < 2 || !vs.some((v) => parseLoose(v).prerelease.length)) continue;
        for (let i = 0; i < vs.length; i++)
            for (let j = i + 1; j < vs.length; j++)
                if (ps.cur().length < 1200) ps.add(vs[i], vs[j]);
    }

    ps.section('installed-vs-advisory',
        'a version installed in the node-app image against an OSV version of the same package');
    for (const [n, vs] of [...img].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
        const cand = [...(osv.get(n) || [])].sort(roughCmp);
        for (const v of [...vs].sort()) {
            if (!cand.length) {
                // a package no advisory names: compare with the advisory versions of others
                for (let k = 0; k < 6; k++) ps.add(v, rng.choice(allVersions));
                continue;
            }
            const keyed = [...cand, v].sort(roughCmp);
            const i = keyed.indexOf(v);
            for (const w of keyed.slice(Math.max(0, i - 4), i).concat(keyed.slice(i + 1, i + 5)))
                ps.add(v, w);
            for (let k = 0; k < 12; k++) ps.add(v, rng.choice(cand));
        }
    }

    ps.section('cross-package', 'random versions of two different packages');
    const allNames = [...groups.keys()].sort();
    for (let tries = 0; ps.cur().length < 1800 && tries < 1800 * 20; tries++) {
        const x = rng.choice(allNames), y = rng.choice(allNames);
        if (x === y) continue;
        ps.add(rng.choice([...groups.get(x)].sort()), rng.choice([...groups.get(y)].sort()));
    }

    ps.section('identical', 'a version compared with itself');
    for (const v of rng.shuffle([...allVersions]).slice(0, 300)) ps.add(v, v);

    const real = ps.count();
    ps.section('equivalent-forms',
        'a real version against a loose spelling of it (v/= prefix, white space, build metadata, ' +
        'leading zeros, prerelease without its hyphen)');
    const forms = [
        (v) => 'v' + v, (v) => '=' + v, (v) => ' v' + v + ' ', (v) => v + '+build.7',
        (v) => v + '+20240101', (v) => '0' + v,
        (v) => v.replace(/^(\d+\.\d+\.\d+)-([A-Za-z])/, '$1$2'),
    ];
    const shuffled = rng.shuffle([...allVersions]);
    for (let i = 0; i < shuffled.length && ps.cur().length < 500; i++) {
        const v = shuffled[i];
        const w = forms[i % forms.length](v);
        if (w !== v) ps.add(v, w);
    }
    const derived = ps.count() - real;

    ps.section('edge-cases', 'hand-picked edge cases, all pairs (not real data)');
    for (let i = 0; i < EDGE.length; i++)
        for (let j = i; j < EDGE.length; j++) ps.add(EDGE[i], EDGE[j]);

    // ask the oracle
    const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
    const hugePre = (p) => p.prerelease.some((id) => typeof id === 'string' && /^[0-9]+$/.test(id)
        && BigInt(id) >= MAX_SAFE);
    let rejected = 0, huge = 0, lt = 0, eq = 0, gt = 0;
    const sections = [];
    for (const s of ps.sections) {
        const rows = [];
        for (const [a, b] of s.rows) {
            const pa = parseLoose(a), pb = parseLoose(b);
            if (!pa || !pb) {
                rejected++;
                continue;
            }
            if (hugePre(pa) || hugePre(pb)) {
                huge++;
                continue;
            }
            const r = semver.compare(a, b, true);
            if (semver.compare(b, a, true) !== -r) throw new Error(`oracle not antisymmetric: ${a} ${b}`);
            lt += r < 0;
            eq += r === 0;
            gt += r > 0;
            rows.push([a, b, r]);
        }
        sections.push({ ...s, rows });
    }
    const total = sections.reduce((n, s) => n + s.rows.length, 0);
    log(`npm: ${total} pairs (${lt} <, ${eq} =, ${gt} >); ${real} of real versions chosen, ` +
        `${derived} derived; oracle rejected ${rejected}, ${huge} with huge numeric prereleases`);

    const header = [
        'npm version pairs: A <TAB> B <TAB> sign of cmp(A, B). Generated by',
        'tools/gen-versions/gen_npm.js; do not edit.',
        `Oracle: node-semver ${require(path.join(__dirname, 'node_modules', 'semver', 'package.json')).version} ` +
        `compare(A, B, loose=true) on node ${process.version}.`,
        'Versions: ../shared/vulndb/osv/npm.jsonl.gz (range events and versions lists) and the',
        'packages installed in the node-app:vuln-deps test image.',
        `Dropped: ${rejected} pairs with a version the oracle rejects, ${huge} pairs with a numeric`,
        'prerelease identifier >= 2^53-1 (node-semver compares those as doubles).',
        'Escapes in A and B: \\\\ \\t \\n \\r \\xHH; lines starting with \'#\' are comments.',
        '',
    ];
    let out = header.map((l) => (l ? '# ' + l : '#')).join('\n') + '\n';
    for (const s of sections) {
        out += `# section: ${s.name} (${s.rows.length} pairs): ${s.desc}\n`;
        for (const [a, b, r] of s.rows) out += `${escapeField(a)}\t${escapeField(b)}\t${r}\n`;
    }
    fs.writeFileSync(OUT, out);
    log(`npm: wrote ${path.relative(REPO_ROOT, OUT)} (${total} pairs)`);
}

main();
