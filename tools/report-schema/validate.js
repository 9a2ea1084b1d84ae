#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Validate vigil report files against the published JSON schemas:
//   node validate.js sarif FILE...       SARIF 2.1.0 (OASIS schema, rtm.5, draft-04)
//   node validate.js cyclonedx FILE...   CycloneDX 1.5 (bom-1.5 schema with its SPDX and JSF parts)
// Prints one line per file and exits 1 when any file fails. Install first: npm ci (here).
'use strict';
const fs = require('fs');
const path = require('path');
const addFormats = require('ajv-formats');

function withoutId(schema) {
  delete schema.$id;
  return schema;
}

function cyclonedxValidator() {
  const Ajv = require('ajv');
  const dir = path.join(path.dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')),
    'res', 'schema');
  const load = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
  // strict: false because the published schema uses keywords ajv's strict mode rejects
  // (e.g. "meta:enum" in the SPDX part); formats are still checked.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // ajv-formats has no IRI formats: accept what RFC 3987 could (no spaces, controls or the
  // characters it excludes), and an address with one "@" for idn-email.
  ajv.addFormat('iri-reference', /^[^\s\u0000-\u001f\u007f"<>\\^`{|}]*$/u);
  ajv.addFormat('iri', /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\u0000-\u001f\u007f"<>\\^`{|}]*$/u);
  ajv.addFormat('idn-email', /^[^\s@]+@[^\s@]+$/u);
  // The library ships the schemas as *.SNAPSHOT.schema.json and the BOM schema refers to
  // them by those names relative to its own $id.
  const base = 'http://cyclonedx.org/schema/';
  ajv.addSchema(withoutId(load('spdx.SNAPSHOT.schema.json')), base + 'spdx.SNAPSHOT.schema.json');
  ajv.addSchema(withoutId(load('jsf-0.82.SNAPSHOT.schema.json')),
    base + 'jsf-0.82.SNAPSHOT.schema.json');
  return ajv.compile(load('bom-1.5.SNAPSHOT.schema.json'));
}

function sarifValidator() {
  const Ajv04 = require('ajv-draft-04');
  const file = path.join(path.dirname(require.resolve('@microsoft/jest-sarif/package.json')),
    'lib', 'schemas', 'sarif-2.1.0-rtm.5.json');
  // The rtm.5 schema has a language-tag pattern that is not valid as a Unicode regular
  // expression ("...[a-zA-Z]{2}]?$"): compile patterns without the "u" flag.
  const ajv = new Ajv04({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(fs.readFileSync(file, 'utf8')));
}

function main(argv) {
  const kind = argv[0];
  const files = argv.slice(1);
  if (!['sarif', 'cyclonedx'].includes(kind) || files.length === 0) {
    console.error('usage: validate.js sarif|cyclonedx FILE...');
    return 2;
  }
  const validate = kind === 'sarif' ? sarifValidator() : cyclonedxValidator();
  let bad = 0;
  for (const f of files) {
    const doc = JSON.parse(fs.readFileSync(f, 'utf8'));
    if (validate(doc)) {
      console.log(`ok ${kind} ${f}`);
    } else {
      bad++;
      console.log(`FAIL ${kind} ${f}`);
      for (const e of validate.errors.slice(0, 20))
        console.log(`  ${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
    }
  }
  return bad ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
