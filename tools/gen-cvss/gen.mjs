#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Generates the CVSS score tables tests/data/cvss/{v2,v30,v31,v40}.txt ("vector TAB score") that
// tests/unit/test_cvss.c checks line by line, plus rejected.txt (real vectors that break the
// specification's syntax rules, "vector TAB reason") and oracle-notes.txt (where the oracles or
// the published scores disagree).
//
// Oracle: ae-cvss-calculator (scores; for v4.0 the score of the whole vector, threat and
// environmental metrics included, as its `base`/`overall` fields give it). Cross-check:
// @pandatix/js-cvss, a second independent implementation; disagreements are listed, not hidden.
//
// Vectors: every base vector of v2 (729) and v3.x (2,592); the vectors found in the real data
// under ../shared/vulndb (OSV severity[].score, NVD cvssV2/cvssV3 vectorString, CISA vulnrichment
// metrics); and seeded pseudo-random vectors with temporal/threat/environmental metrics.
//
// Usage (from the repository root): tools/gen-cvss/gen.sh
//   env VIGIL_VULNDB=DIR     real data directory (default ../shared/vulndb)
//   --all-v40 FILE           also write every v4.0 base vector (104,976) with its score to FILE
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';
import { createRequire, register } from 'node:module';

const require = createRequire(import.meta.url);
const ae = require('ae-cvss-calculator');

// @pandatix/js-cvss ships ES modules whose relative imports omit ".js"; resolve them.
register('data:text/javascript,' + encodeURIComponent(
    'export async function resolve(s, c, next) {' +
    '  try { return await next(s, c); } catch (e) {' +
    '    if (s.startsWith(".") && !s.endsWith(".js")) return next(s + ".js", c);' +
    '    throw e; } }'));
const pj = await import('@pandatix/js-cvss');

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const vulndb = process.env.VIGIL_VULNDB || path.resolve(repo, '../shared/vulndb');
const outDir = path.join(repo, 'tests/data/cvss');

// ---- metric definitions (the syntax the C parser enforces; kept independent of it) -----------

const V2 = {
    ordered: true,
    metrics: [
        ['AV', true, ['L', 'A', 'N']], ['AC', true, ['H', 'M', 'L']], ['Au', true, ['M', 'S', 'N']],
        ['C', true, ['N', 'P', 'C']], ['I', true, ['N', 'P', 'C']], ['A', true, ['N', 'P', 'C']],
        ['E', false, ['U', 'POC', 'F', 'H', 'ND']], ['RL', false, ['OF', 'TF', 'W', 'U', 'ND']],
        ['RC', false, ['UC', 'UR', 'C', 'ND']], ['CDP', false, ['N', 'L', 'LM', 'MH', 'H', 'ND']],
        ['TD', false, ['N', 'L', 'M', 'H', 'ND']], ['CR', false, ['L', 'M', 'H', 'ND']],
        ['IR', false, ['L', 'M', 'H', 'ND']], ['AR', false, ['L', 'M', 'H', 'ND']],
    ],
};
const V3 = {
    ordered: false,
    metrics: [
        ['AV', true, ['N', 'A', 'L', 'P']], ['AC', true, ['L', 'H']], ['PR', true, ['N', 'L', 'H']],
        ['UI', true, ['N', 'R']], ['S', true, ['U', 'C']], ['C', true, ['H', 'L', 'N']],
        ['I', true, ['H', 'L', 'N']], ['A', true, ['H', 'L', 'N']],
        ['E', false, ['X', 'H', 'F', 'P', 'U']], ['RL', false, ['X', 'U', 'W', 'T', 'O']],
        ['RC', false, ['X', 'C', 'R', 'U']], ['CR', false, ['X', 'H', 'M', 'L']],
        ['IR', false, ['X', 'H', 'M', 'L']], ['AR', false, ['X', 'H', 'M', 'L']],
        ['MAV', false, ['X', 'N', 'A', 'L', 'P']], ['MAC', false, ['X', 'L', 'H']],
        ['MPR', false, ['X', 'N', 'L', 'H']], ['MUI', false, ['X', 'N', 'R']],
        ['MS', false, ['X', 'U', 'C']], ['MC', false, ['X', 'H', 'L', 'N']],
        ['MI', false, ['X', 'H', 'L', 'N']], ['MA', false, ['X', 'H', 'L', 'N']],
    ],
};
const V4 = {
    ordered: true,
    metrics: [
        ['AV', true, ['N', 'A', 'L', 'P']], ['AC', true, ['L', 'H']], ['AT', true, ['N', 'P']],
        ['PR', true, ['N', 'L', 'H']], ['UI', true, ['N', 'P', 'A']],
        ['VC', true, ['H', 'L', 'N']], ['VI', true, ['H', 'L', 'N']], ['VA', true, ['H', 'L', 'N']],
        ['SC', true, ['H', 'L', 'N']], ['SI', true, ['H', 'L', 'N']], ['SA', true, ['H', 'L', 'N']],
        ['E', false, ['X', 'A', 'P', 'U']],
        ['CR', false, ['X', 'H', 'M', 'L']], ['IR', false, ['X', 'H', 'M', 'L']],
        ['AR', false, ['X', 'H', 'M', 'L']], ['MAV', false, ['X', 'N', 'A', 'L', 'P']],
        ['MAC', false, ['X', 'L', 'H']], ['MAT', false, ['X', 'N', 'P']],
        ['MPR', false, ['X', 'N', 'L', 'H']], ['MUI', false, ['X', 'N', 'P', 'A']],
        ['MVC', false, ['X', 'H', 'L', 'N']], ['MVI', false, ['X', 'H', 'L', 'N']],
        ['MVA', false, ['X', 'H', 'L', 'N']], ['MSC', false, ['X', 'H', 'L', 'N']],
        ['MSI', false, ['X', 'S', 'H', 'L', 'N']], ['MSA', false, ['X', 'S', 'H', 'L', 'N']],
        ['S', false, ['X', 'N', 'P']], ['AU', false, ['X', 'N', 'Y']],
        ['R', false, ['X', 'A', 'U', 'I']], ['V', false, ['X', 'D', 'C']],
        ['RE', false, ['X', 'L', 'M', 'H']], ['U', false, ['X', 'Clear', 'Green', 'Amber', 'Red']],
    ],
};

const VERSIONS = {
    v2: { def: V2, prefix: '', file: 'v2.txt', seed: 2 },
    v30: { def: V3, prefix: 'CVSS:3.0/', file: 'v30.txt', seed: 30 },
    v31: { def: V3, prefix: 'CVSS:3.1/', file: 'v31.txt', seed: 31 },
    v40: { def: V4, prefix: 'CVSS:4.0/', file: 'v40.txt', seed: 40 },
};

function versionOf(vector) {
    if (vector.startsWith('CVSS:3.0/')) return 'v30';
    if (vector.startsWith('CVSS:3.1/')) return 'v31';
    if (vector.startsWith('CVSS:4.0/')) return 'v40';
    if (vector.startsWith('CVSS:')) return null;
    return 'v2';
}

// The metric part of a vector (without "CVSS:x.y/" or the v2 parentheses).
function bodyOf(ver, vector) {
    if (ver === 'v2') {
        if (vector.startsWith('(') && vector.endsWith(')')) return vector.slice(1, -1);
        if (vector.startsWith('CVSS:2.0/')) return vector.slice(9);
        return vector;
    }
    return vector.slice(VERSIONS[ver].prefix.length);
}

// Returns null when the vector follows the specification's syntax, else a reason.
function validate(ver, vector) {
    const def = VERSIONS[ver].def;
    const body = bodyOf(ver, vector);
    const seen = new Map();
    let last = -1;
    for (const tok of body.split('/')) {
        const colon = tok.indexOf(':');
        if (colon < 0) return `malformed metric '${tok}'`;
        const name = tok.slice(0, colon), value = tok.slice(colon + 1);
        const idx = def.metrics.findIndex((m) => m[0] === name);
        if (idx < 0) return `unknown metric '${name}'`;
        if (seen.has(name)) return `duplicate metric '${name}'`;
        if (def.ordered && idx < last) return `metric '${name}' out of order`;
        if (!def.metrics[idx][2].includes(value)) return `unknown value '${value}' for '${name}'`;
        seen.set(name, value);
        last = idx;
    }
    for (const [name, required] of def.metrics)
        if (required && !seen.has(name)) return `missing metric '${name}'`;
    return null;
}

// ---- oracles -------------------------------------------------------------------------------

function aeScore(ver, vector) {
    const body = bodyOf(ver, vector);
    let c;
    switch (ver) {
    case 'v2': c = new ae.Cvss2(body); break;
    case 'v30': c = new ae.Cvss3P0('CVSS:3.0/' + body); break;
    case 'v31': c = new ae.Cvss3P1('CVSS:3.1/' + body); break;
    case 'v40': c = new ae.Cvss4P0('CVSS:4.0/' + body); break;
    }
    const s = c.calculateScores().base;
    if (typeof s !== 'number' || !Number.isFinite(s)) throw new Error('no base score');
    return s;
}

// Second opinion; undefined when that implementation does not take the vector.
function pjScore(ver, vector) {
    const body = bodyOf(ver, vector);
    try {
        switch (ver) {
        case 'v2': return new pj.CVSS20(body).BaseScore();
        case 'v30': return new pj.CVSS30('CVSS:3.0/' + body).BaseScore();
        case 'v31': return new pj.CVSS31('CVSS:3.1/' + body).BaseScore();
        case 'v40': return new pj.CVSS40('CVSS:4.0/' + body).Score();
        }
    } catch {
        return undefined;
    }
    return undefined;
}

const fmt = (x) => (Math.round(x * 10) / 10).toFixed(1);

// ---- real vectors --------------------------------------------------------------------------

async function* jsonLines(file) {
    const rl = readline.createInterface({
        input: fs.createReadStream(file).pipe(zlib.createGunzip()),
        crlfDelay: Infinity,
    });
    for await (const line of rl) if (line.length) yield JSON.parse(line);
}

// vector -> published score (first seen), per source kind; Map keeps first-seen order.
async function collectReal() {
    const found = new Map();
    const add = (vector, score, source) => {
        if (typeof vector !== 'string' || vector.length === 0) return;
        if (!found.has(vector)) found.set(vector, { sources: new Set(), published: new Map() });
        const e = found.get(vector);
        e.sources.add(source);
        if (typeof score === 'number') e.published.set(source, score);
    };

    const osvDir = path.join(vulndb, 'osv');
    for (const f of fs.readdirSync(osvDir).filter((n) => n.endsWith('.jsonl.gz')).sort()) {
        for await (const rec of jsonLines(path.join(osvDir, f))) {
            const sev = [...(rec.severity || [])];
            for (const a of rec.affected || []) sev.push(...(a.severity || []));
            for (const s of sev)
                if (typeof s.type === 'string' && s.type.startsWith('CVSS_')) add(s.score, null, 'osv');
        }
    }
    for await (const rec of jsonLines(path.join(vulndb, 'nvd/nvd-cve.jsonl.gz'))) {
        const v2 = rec.impact?.baseMetricV2?.cvssV2, v3 = rec.impact?.baseMetricV3?.cvssV3;
        if (v2) add(v2.vectorString, v2.baseScore, 'nvd');
        if (v3) add(v3.vectorString, v3.baseScore, 'nvd');
    }
    for await (const rec of jsonLines(path.join(vulndb, 'cve/cisa-vulnrichment.jsonl.gz'))) {
        const metrics = [...(rec.containers?.cna?.metrics || [])];
        for (const adp of rec.containers?.adp || []) metrics.push(...(adp.metrics || []));
        for (const m of metrics)
            for (const [k, v] of Object.entries(m))
                if (k.startsWith('cvssV') && v && typeof v === 'object')
                    add(v.vectorString, v.baseScore, 'cisa');
    }
    return found;
}

// ---- random vectors ------------------------------------------------------------------------

function mulberry32(seed) {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function randomVector(ver, rnd, pOptional) {
    const { def, prefix } = VERSIONS[ver];
    const pick = (a) => a[Math.floor(rnd() * a.length)];
    let parts = [];
    for (const [name, required, values] of def.metrics)
        if (required || rnd() < pOptional) parts.push(`${name}:${pick(values)}`);
    if (!def.ordered && rnd() < 0.3) {
        // v3.x readers must accept any order: shuffle (Fisher-Yates)
        for (let i = parts.length - 1; i > 0; i--) {
            const j = Math.floor(rnd() * (i + 1));
            [parts[i], parts[j]] = [parts[j], parts[i]];
        }
    }
    let v = prefix + parts.join('/');
    if (ver === 'v2') {
        const r = rnd();
        if (r < 0.08) v = `(${v})`;
        else if (r < 0.12) v = `CVSS:2.0/${v}`;
    }
    return v;
}

function* allBase(ver) {
    const { def, prefix } = VERSIONS[ver];
    const base = def.metrics.filter((m) => m[1]);
    const idx = new Array(base.length).fill(0);
    for (;;) {
        yield prefix + base.map((m, i) => `${m[0]}:${m[2][idx[i]]}`).join('/');
        let k = base.length - 1;
        while (k >= 0 && ++idx[k] === base[k][2].length) idx[k--] = 0;
        if (k < 0) return;
    }
}

// ---- main ----------------------------------------------------------------------------------

const RANDOM = { v2: [1400, 0.5], v30: [1000, 0.35], v31: [1000, 0.35], v40: [3000, 0, 2000, 0.3] };

async function main() {
    const args = process.argv.slice(2);
    const real = await collectReal();
    fs.mkdirSync(outDir, { recursive: true });

    const notes = [];
    const rejected = [];
    const stats = {};
    const tables = { v2: new Map(), v30: new Map(), v31: new Map(), v40: new Map() };
    const origin = { v2: {}, v30: {}, v31: {}, v40: {} };

    const put = (ver, vector, kind) => {
        if (tables[ver].has(vector)) return;
        const score = aeScore(ver, vector);
        tables[ver].set(vector, score);
        origin[ver][kind] = (origin[ver][kind] || 0) + 1;
        const other = pjScore(ver, vector);
        const st = (stats[ver] ||= { pjAgree: 0, pjDiffer: 0, pjRefused: 0 });
        if (other === undefined) st.pjRefused++;
        else if (fmt(other) === fmt(score)) st.pjAgree++;
        else {
            st.pjDiffer++;
            notes.push(`${ver}\tpandatix\t${vector}\tae=${fmt(score)}\tpandatix=${fmt(other)}`);
        }
    };

    for (const ver of ['v2', 'v30', 'v31']) for (const v of allBase(ver)) put(ver, v, 'all-base');

    const published = { agree: 0, differ: 0 };
    const realPerVersion = {};
    for (const [vector, info] of real) {
        const ver = versionOf(vector);
        const why = ver ? validate(ver, vector) : 'unsupported version prefix';
        if (why) {
            rejected.push(`${vector}\t${why}`);
            continue;
        }
        realPerVersion[ver] = (realPerVersion[ver] || 0) + 1;
        put(ver, vector, 'real');
        const mine = fmt(tables[ver].get(vector));
        for (const [source, score] of info.published) {
            if (fmt(score) === mine) published.agree++;
            else {
                published.differ++;
                notes.push(`${ver}\tpublished-${source}\t${vector}\tae=${mine}\t${source}=${fmt(score)}`);
            }
        }
    }

    for (const ver of Object.keys(RANDOM)) {
        const rnd = mulberry32(VERSIONS[ver].seed);
        const spec = RANDOM[ver];
        for (let s = 0; s < spec.length; s += 2) {
            const [n, p] = [spec[s], spec[s + 1]];
            let added = 0;
            for (let guard = 0; added < n && guard < n * 20; guard++) {
                const v = randomVector(ver, rnd, p);
                if (validate(ver, v)) throw new Error(`generated invalid ${v}: ${validate(ver, v)}`);
                if (tables[ver].has(v)) continue;
                put(ver, v, 'random');
                added++;
            }
        }
    }

    for (const ver of Object.keys(tables)) {
        const lines = [...tables[ver]].map(([v, s]) => `${v}\t${fmt(s)}\n`);
        fs.writeFileSync(path.join(outDir, VERSIONS[ver].file), lines.join(''));
    }
    fs.writeFileSync(path.join(outDir, 'rejected.txt'),
        rejected.map((l) => l + '\n').join(''));
    const header = [
        '# Where the oracle (ae-cvss-calculator) differs from the second implementation',
        '# (@pandatix/js-cvss) or from a score published with the vector (NVD, CISA).',
        '# Generated by tools/gen-cvss/gen.mjs; the tables use the oracle\'s scores.',
    ];
    fs.writeFileSync(path.join(outDir, 'oracle-notes.txt'),
        header.concat(notes).map((l) => l + '\n').join(''));

    for (const ver of Object.keys(tables))
        console.error(`${ver}: ${tables[ver].size} vectors (${realPerVersion[ver] || 0} distinct ` +
            `real ones) first added as ${JSON.stringify(origin[ver])} ` +
            `pandatix ${JSON.stringify(stats[ver])}`);
    console.error(`real vectors: ${real.size}, rejected ${rejected.length}; published scores ` +
        `agree ${published.agree}, differ ${published.differ}`);

    const i = args.indexOf('--all-v40');
    if (i >= 0 && args[i + 1]) {
        const out = fs.createWriteStream(args[i + 1]);
        let n = 0, differ = 0;
        for (const v of allBase('v40')) {
            const s = aeScore('v40', v), o = pjScore('v40', v);
            if (o === undefined || fmt(o) !== fmt(s)) differ++;
            out.write(`${v}\t${fmt(s)}\n`);
            n++;
        }
        out.end();
        console.error(`all v4.0 base vectors: ${n} written to ${args[i + 1]}; pandatix differs on ${differ}`);
    }
}

await main();
