// The rules of client-core (client-core/src/rules.rs and domain.rs), mirrored for the
// phone app so it never writes a change the server would refuse, and the household
// status of client-core/src/coverage.rs. tests/browser/rules.mjs runs these against
// the shared cases in tests/fixtures/rules.json, which client-core's tests also run.

export const MAX_COUNT = 50;
export const MAX_TEXT_CHARS = 200;
export const MIN_TIME_MS = 1577836800000; // 2020-01-01T00:00Z
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000;
export const OUTCOMES = ['guided', 'already_done', 'not_home', 'declined', 'revisit'];

/** A write the rules refuse: `rule` is client-core's rule code, `field` the form field. */
export class RuleError extends Error {
  constructor(rule, field, message, hint) {
    super(message);
    this.rule = rule;
    this.field = field;
    /** The i18n key of a message that says what to do, when the field alone does not. */
    this.hint = hint;
  }
}

/** The Asia/Ho_Chi_Minh day of a time, "YYYY-MM-DD". */
export function vnDay(ms) {
  return new Date(ms + 7 * 3600_000).toISOString().slice(0, 10);
}

/** Most households someone may list in the field in one day (client-core's
 * `Role::households_per_day`); the server counts what arrives per day too. */
export function householdsPerDay(role) {
  return role === 'volunteer' ? 100 : 400;
}

export function isCode(code) {
  return typeof code === 'string' && code.length >= 1 && code.length <= 32 && /^[a-z0-9_]+$/.test(code);
}

function chars(text) {
  return [...text].length;
}

/** What is wrong with a label, name or note, if anything (client-core's `text_fault`). */
export function textFault(text, required) {
  if (required && text.trim() === '') return 'must not be empty';
  if (chars(text) > MAX_TEXT_CHARS) return `is longer than ${MAX_TEXT_CHARS} characters`;
  if (/\p{Cc}/u.test(text)) return 'holds control characters';
  if (/[\u202a-\u202e\u2066-\u2069]/u.test(text)) return 'holds characters that reorder text';
  return null;
}

function checkText(field, text, required) {
  const fault = textFault(text, required);
  if (fault) throw new RuleError('invalid_value', field, fault);
}

function checkCount(field, n) {
  if (!Number.isInteger(n) || n < 0 || n > MAX_COUNT) throw new RuleError('invalid_value', field, `must be between 0 and ${MAX_COUNT}`);
}

function checkTime(field, at, now) {
  if (!Number.isInteger(at) || at < MIN_TIME_MS) throw new RuleError('invalid_value', field, 'is before 2020');
  if (at > now + MAX_FUTURE_MS) throw new RuleError('invalid_value', field, 'is more than a day in the future; check the phone’s clock');
}

/** Trims optional text; empty becomes absent (as client-core's forms do). */
export function clean(text) {
  const t = (text ?? '').trim();
  return t === '' ? undefined : t;
}

/** Checks a new household {label, head?, members?, created_by, created_at} by `user`. */
export function checkHousehold(user, h, now) {
  if (h.created_by !== user) throw new RuleError('not_as_self', 'created_by', 'a household is listed as oneself');
  checkText('label', h.label, true);
  if (h.head !== undefined) checkText('head', h.head, false);
  if (h.members !== undefined) checkCount('members', h.members);
  checkTime('created_at', h.created_at, now);
}

/** Checks a new visit {household, by, at, outcome, topics: [code], accounts: {code: n}, people, filed?, note?}. */
export function checkVisit(user, v, now, householdExists) {
  if (v.by !== user) throw new RuleError('not_as_self', 'by', 'a visit is logged as oneself');
  if (!householdExists) throw new RuleError('unknown_household', 'household', 'the household is not listed');
  if (!OUTCOMES.includes(v.outcome)) throw new RuleError('invalid_value', 'outcome', 'is not an outcome');
  checkTime('at', v.at, now);
  for (const t of v.topics) if (!isCode(t)) throw new RuleError('invalid_value', 'topics', `“${t}” is not a topic code`);
  for (const [k, n] of Object.entries(v.accounts)) {
    if (!isCode(k)) throw new RuleError('invalid_value', 'accounts', `“${k}” is not an account-kind code`);
    checkCount('accounts', n);
  }
  checkCount('people', v.people);
  checkCount('filed', v.filed ?? 0);
  if (v.note !== undefined) checkText('note', v.note, false);
  // A guided visit covers the household: it says what was guided or whom.
  if (v.outcome === 'guided' && v.topics.length === 0 && v.people === 0) {
    throw new RuleError('invalid_value', 'people', 'a guided visit names at least one topic or one person helped', 'guided_needs');
  }
}

/** Checks a new walk-in {by, at, people, topics: [code], accounts: {code: n}, filed?, note?}
 *  as client-core's `check_walkin_created` does: as oneself, one person helped at least. */
export function checkWalkIn(user, w, now) {
  if (w.by !== user) throw new RuleError('not_as_self', 'by', 'a walk-in is logged as oneself');
  checkTime('at', w.at, now);
  for (const t of w.topics) if (!isCode(t)) throw new RuleError('invalid_value', 'topics', `“${t}” is not a topic code`);
  for (const [k, n] of Object.entries(w.accounts)) {
    if (!isCode(k)) throw new RuleError('invalid_value', 'accounts', `“${k}” is not an account-kind code`);
    checkCount('accounts', n);
  }
  checkCount('people', w.people);
  checkCount('filed', w.filed ?? 0);
  if (w.note !== undefined) checkText('note', w.note, false);
  if (w.people === 0) throw new RuleError('invalid_value', 'people', 'a walk-in helped one person at least', 'walkin_needs');
}

/** A household's status from its visits [{at, id, outcome, voided}], as coverage.rs decides. */
export function statusOf(visits) {
  let any = false;
  let covered = false;
  let latest = null;
  for (const v of visits) {
    if (v.voided) continue;
    any = true;
    if (v.outcome === 'guided' || v.outcome === 'already_done') covered = true;
    if (!latest || v.at > latest.at || (v.at === latest.at && v.id > latest.id)) latest = v;
  }
  if (covered) return 'covered';
  if (latest && (latest.outcome === 'not_home' || latest.outcome === 'revisit')) return 'follow_up';
  return any ? 'attempted' : 'not_visited';
}
