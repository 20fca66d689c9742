// The phone app's mirror of the schema check (server/app/src/js/schema.js), run with
// Node on the real Automerge package the app loads, against the cases client-core's
// tests run (client-core/tests/fixtures/relayed-changes.json): changes relayed onto one
// base log, and whole logs a server sends, with the household keys the device holds
// (sealed fields are opened with WebCrypto, as on the phone). Prints
// {"cases": n, "failures": [...]}; exits non-zero on any disagreement.

import { readFileSync } from 'node:fs';
import * as A from '../../server/app/node_modules/@automerge/automerge/dist/mjs/entrypoints/fullfat_node.js';
import { SchemaError, checkChanges, loadChecked, openSealed } from '../../server/app/src/js/schema.js';

const fixture = JSON.parse(readFileSync(new URL('../../client-core/tests/fixtures/relayed-changes.json', import.meta.url)));
const unhex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const keys = new Map(Object.entries(fixture.keys).map(([h, k]) => [h, unhex(k)]));
const keyOf = (h) => keys.get(h);
const verdict = async (run) => {
  try {
    await run();
    return 'ok';
  } catch (e) {
    if (!(e instanceof SchemaError)) return `threw ${e}`;
    return e.rule;
  }
};
const base = A.load(unhex(fixture.base));
const failures = [];
for (const c of fixture.changes) {
  const got = await verdict(() => openSealed(fixture.hamlet, checkChanges(A, base, c.bytes.map(unhex)), keyOf));
  if (got !== c.expect) failures.push({ name: c.name, expected: c.expect, got });
}
for (const c of fixture.logs) {
  const got = await verdict(async () => {
    const { sealed } = loadChecked(A, fixture.hamlet, unhex(c.bytes[0]), 'ab'.repeat(16));
    await openSealed(fixture.hamlet, sealed, keyOf);
  });
  if (got !== c.expect) failures.push({ name: c.name, expected: c.expect, got });
}
console.log(JSON.stringify({ cases: fixture.changes.length + fixture.logs.length, failures }));
if (failures.length) process.exit(1);
