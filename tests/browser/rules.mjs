// The phone app's mirror of the rules (server/app/src/js/rules.js), run with Node
// against the cases client-core's tests run (client-core/tests/fixtures/new-writes.json).
// Prints {"cases": n, "failures": [...]}; exits non-zero on any disagreement.

import { readFileSync } from 'node:fs';
import { checkHousehold, checkVisit, checkWalkIn, RuleError } from '../../server/app/src/js/rules.js';

const cases = JSON.parse(readFileSync(new URL('../../client-core/tests/fixtures/new-writes.json', import.meta.url)));
const failures = [];
for (const c of cases) {
  let verdict = 'ok';
  try {
    if (c.kind === 'visit') checkVisit(c.user, c.value, c.now, c.household_exists);
    else if (c.kind === 'walkin') checkWalkIn(c.user, c.value, c.now);
    else checkHousehold(c.user, c.value, c.now);
  } catch (e) {
    if (!(e instanceof RuleError)) throw e;
    verdict = e.rule;
  }
  if (verdict !== c.expect) failures.push({ name: c.name, expected: c.expect, got: verdict });
}
console.log(JSON.stringify({ cases: cases.length, failures }));
if (failures.length) process.exit(1);
