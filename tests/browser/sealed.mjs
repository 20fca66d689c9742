// The phone app's sealing (server/app/src/js/sealed.js, WebCrypto's AES-GCM) against
// client-core's (client-core/tests/fixtures/sealed.json, written by
// client-core/tests/sealed.rs): with the fixture's nonces it makes the same bytes, it
// opens client-core's values to the same text, and what client-core refuses to open
// it refuses too. Prints {"cases": n, "failures": [...]}; exits non-zero on any.

import { readFileSync } from 'node:fs';
import { fieldOf, open, seal } from '../../server/app/src/js/sealed.js';

const f = JSON.parse(readFileSync(new URL('../../client-core/tests/fixtures/sealed.json', import.meta.url)));
const unhex = (s) => Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const key = unhex(f.key);
const failures = [];
for (const c of f.cases) {
  const field = fieldOf(c.what, c.visit);
  const sealed = await seal(key, f.hamlet, f.household, field, c.text, unhex(c.nonce));
  if (hex(sealed) !== c.sealed) failures.push({ case: c.what, text: c.text, problem: 'sealed to other bytes', got: hex(sealed) });
  const opened = await open(key, f.hamlet, f.household, field, unhex(c.sealed)).catch((e) => `threw ${e.message}`);
  if (opened !== c.text) failures.push({ case: c.what, text: c.text, problem: 'opened to another text', got: opened });
}
for (const r of f.refused) {
  const opened = await open(unhex(r.key), r.hamlet, r.household, fieldOf(r.what, r.visit), unhex(r.sealed)).then(() => true, () => false);
  if (opened) failures.push({ case: r.why, problem: 'opened where it must not' });
}
console.log(JSON.stringify({ cases: f.cases.length + f.refused.length, failures }));
if (failures.length) process.exit(1);
