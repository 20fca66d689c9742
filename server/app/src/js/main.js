// The phone app's screens: enrolment, my day and my hamlets, a hamlet's households
// (status chips, search), logging a visit (three taps: household, outcome, save) and
// adding a household, with the sync state always in view. Views are built with DOM
// calls (never innerHTML with data), so a household label is always text.

import { Store } from './store.js';
import { Replica, SyncError } from './replica.js';
import { RuleError, OUTCOMES, vnDay } from './rules.js';
import { apiText, t, lang, setLang } from './i18n.js';
import { copy, drawCard, myDay, reportParts, reportText, share } from './day.js';

const SYNC_EVERY_MS = 60_000;
const app = document.getElementById('app');
let replica;
let syncing = false;
let message = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'class') node.className = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function vnTime(ms) {
  const d = new Date(ms + 7 * 3600_000).toISOString();
  return `${d.slice(11, 16)} ${d.slice(8, 10)}/${d.slice(5, 7)}`;
}

/** Shows a message in the header until the volunteer moves to another screen, or
 *  (`carry`, for "Đã lưu." as a save returns to the list) to the one after it. */
function say(text, kind = 'ok', carry = false) {
  message = { text, kind, carry };
}

/** Folds text for search as people type it: no diacritics, đ as d, lower case
 *  ("hem 5" finds "hẻm 5", "nguyen trai" finds "Nguyễn Trãi"). */
function fold(text) {
  return (text ?? '').normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
}

/** An address as it identifies a house (client-core's `collate::same_place`). */
function samePlace(text) {
  return fold(text).split(/[^\p{L}\p{N}]+/u).filter(Boolean).join(' ');
}

/** Tells why a write was refused: the field, in the volunteer's language. The form
 *  stays as it was, so the volunteer corrects one field rather than typing it all again. */
function refused(err) {
  if (err instanceof RuleError && err.hint) say(t(err.hint), 'bad');
  else if (err instanceof RuleError && (err.rule === 'too_many_households' || err.rule === 'before_visits_from')) say(t(err.rule), 'bad');
  else say(err instanceof RuleError ? `${t('invalid')}: ${t(err.field)}` : err.message, 'bad');
  refresh();
}

function header() {
  const online = navigator.onLine;
  const pending = replica?.enrolled() ? replica.pending() : 0;
  return el('header', { class: 'top' },
    el('div', { class: 'bar' },
      el('a', { href: '#/', class: 'brand' }, t('title')),
      el('button', { class: 'link', onclick: () => { setLang(lang() === 'vi' ? 'en' : 'vi'); render(); } }, t('other_lang'))),
    replica?.enrolled() ? el('div', { class: 'sync', id: 'sync-state', 'data-pending': String(pending), 'data-online': String(online) },
      el('span', { class: online ? 'dot on' : 'dot off' }, online ? t('online') : t('offline')),
      el('span', { id: 'pending' }, `${pending} ${t('waiting')}`),
      el('span', {}, replica.lastSync ? `${t('last_sync')} ${vnTime(replica.lastSync)}` : t('never')),
      el('button', { id: 'sync-now', disabled: syncing || !online, onclick: () => syncNow(true) }, syncing ? t('syncing') : t('sync'))) : null,
    message ? el('p', { class: `message ${message.kind}`, role: 'status', id: 'message' }, message.text) : null);
}

function enrolScreen(code) {
  const codeInput = el('input', { id: 'code', name: 'code', value: code ?? '', autocapitalize: 'characters', required: true, autocomplete: 'off' });
  // Left empty, the server names the phone after its owner ("Điện thoại của Lan").
  const nameInput = el('input', { id: 'device-name', name: 'device_name', placeholder: t('device_default'), maxlength: '80' });
  const button = el('button', { type: 'submit', class: 'big' }, t('enrol'));
  const form = el('form', {
    class: 'stack',
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      button.textContent = t('enrolling');
      try {
        await replica.enrol(codeInput.value.trim(), nameInput.value.trim());
        history.replaceState(null, '', '/app/#/');
        await syncNow(false);
        render();
      } catch (err) {
        // What was typed stays, to be corrected; the reason in the volunteer's language.
        say(err instanceof SyncError && err.code !== 'http' ? apiText(err.code) : t('enrol_offline'), 'bad');
        button.disabled = false;
        button.textContent = t('enrol');
        refresh();
      }
    },
  },
  el('label', { for: 'code' }, t('code')), codeInput,
  el('label', { for: 'device-name' }, t('device_name')), nameInput,
  button);
  return [el('h1', {}, t('enrol_title')), el('p', {}, t('enrol_text')), form];
}

function homeScreen() {
  const today = vnDay(Date.now());
  let visits = 0, accounts = 0, toVisit = 0;
  const rows = replica.hamlets().map((h) => {
    if (replica.isCounter(h.id)) {
      // A one-stop counter: its walk-ins today, and the way to log one.
      const mine = replica.walkins(h.id).filter((w) => !w.voided && w.by === replica.user() && vnDay(w.at) === today);
      return el('li', {}, el('a', { href: `#/c/${encodeURIComponent(h.id)}`, class: 'row', 'data-counter': h.id },
        el('span', {}, el('small', { class: 'muted' }, `${t('counter')} · `), h.name),
        el('span', { class: 'muted' }, `${mine.length} ${t('walkins_today')}`)));
    }
    const list = replica.households(h.id);
    for (const hh of list) {
      if (hh.status === 'not_visited') toVisit++;
      for (const v of hh.visits) {
        if (v.by === replica.user() && !v.voided && vnDay(v.at) === today) {
          visits++;
          accounts += Object.values(v.accounts).reduce((a, n) => a + Number(n), 0);
        }
      }
    }
    const covered = list.filter((x) => x.status === 'covered').length;
    return el('li', {}, el('a', { href: `#/h/${encodeURIComponent(h.id)}`, class: 'row' },
      el('span', {}, h.name), el('span', { class: 'muted' }, `${covered}/${list.length} ${t('covered_of')}`)));
  });
  return [
    el('section', { class: 'day', id: 'my-day' },
      el('h2', {}, t('my_day')),
      el('div', { class: 'cards' },
        card(visits, t('visits_today'), 'visits-today'),
        card(accounts, t('accounts_today'), 'accounts-today'),
        card(toVisit, t('to_visit'), 'to-visit')),
      el('a', { href: '#/day', class: 'button secondary', id: 'open-day' }, t('day_report'))),
    el('h2', {}, t('hamlets')),
    rows.length ? el('ul', { class: 'list', id: 'hamlets' }, rows) : el('p', {}, t('no_hamlets')),
  ];
}

/** A one-stop counter: log someone helped there (who came is never recorded, only how
 *  many people, what they were helped with, the accounts made and the dossiers filed),
 *  and the walk-ins logged today. */
function counterScreen(place) {
  const name = replica.hamlets().find((h) => h.id === place)?.name ?? place;
  const catalogue = replica.me?.catalogue ?? { topics: [], account_kinds: [] };
  const topics = el('fieldset', {}, el('legend', {}, t('topics')), catalogue.topics.map((e) =>
    el('label', { class: 'toggle' }, el('input', { type: 'checkbox', name: 'topic', value: e.code }), e.label)));
  const accounts = el('fieldset', {}, el('legend', {}, t('accounts')), catalogue.account_kinds.map((e) => counter(`account-${e.code}`, 0, e.label)));
  const note = el('input', { id: 'note', name: 'note', maxlength: '200', placeholder: t('walkin_note_hint') });
  const form = el('form', {
    class: 'stack',
    onsubmit: async (e) => {
      e.preventDefault();
      const value = (id) => Number(form.querySelector(`#${id}`).value || 0);
      const entry = {
        people: value('people'),
        topics: [...form.querySelectorAll('input[name=topic]:checked')].map((i) => i.value),
        accounts: Object.fromEntries(catalogue.account_kinds.map((k) => [k.code, value(`account-${k.code}`)])),
        filed: value('filed'),
        note: note.value,
      };
      try {
        await replica.logWalkIn(place, entry);
        say(t('saved'), 'ok');
        render();
        syncNow(false);
      } catch (err) {
        refused(err);
      }
    },
  },
  counter('people', 1, t('walkin_people')), topics, accounts, counter('filed', 0, t('filed')),
  el('label', { for: 'note' }, t('note')), note,
  el('button', { type: 'submit', class: 'big', id: 'save-walkin' }, t('save')));
  const today = el('section', { id: 'walkins-today' });
  const fill = () => {
    const day = vnDay(Date.now());
    const mine = replica.walkins(place).filter((w) => !w.voided && vnDay(w.at) === day);
    today.replaceChildren(el('h2', {}, `${t('walkins_today')} (${mine.length})`),
      el('ul', { class: 'list' }, mine.map((w) => el('li', {},
        `${vnTime(w.at)} · ${w.people} ${t('dr_persons')}`
        + (w.filed ? ` · ${w.filed} ${t('dr_filed_short')}` : '')))));
  };
  fill();
  return {
    body: [
      el('p', {}, el('a', { href: '#/', class: 'back' }, `← ${t('back')}`)),
      el('h1', {}, name),
      el('p', { class: 'muted' }, t('walkin_intro')),
      form,
      today,
    ],
    refresh: fill,
  };
}

/** The volunteer's day as a report: text, card, and a share button (Zalo is in the
 *  phone's share sheet), with copying as the fallback. */
function dayScreen(params) {
  const today = vnDay(Date.now());
  const asked = params.get('d') ?? '';
  const day = /^\d{4}-\d{2}-\d{2}$/.test(asked) && asked <= today ? asked : today;
  const picker = el('input', { type: 'date', id: 'day', value: day, max: today, 'aria-label': t('dr_day') });
  picker.addEventListener('change', () => { if (picker.value) location.hash = `#/day?d=${picker.value}`; });
  const text = el('textarea', { id: 'day-text', readonly: true, rows: '9' });
  const canvas = el('canvas', { id: 'day-card', class: 'card-image' });
  let parts = null;
  // Drawn again when a sync brings the day's visits from another of one's phones.
  const fill = () => {
    const user = replica.user();
    const name = replica.me?.user?.name ?? user;
    parts = reportParts(myDay(replica, user, day), name, replica.me?.catalogue?.account_kinds ?? [], t, lang());
    text.value = reportText(parts);
    drawCard(canvas, parts, t('title'), t('motto'));
  };
  fill();
  const shareButton = el('button', { type: 'button', class: 'big', id: 'share-day', onclick: async () => {
    const how = await share(text.value, canvas, `bao-cao-${day}.png`);
    if (how === 'copied') {
      say(t('copied'));
      refresh();
    }
  } }, t('share'));
  const copyButton = el('button', { type: 'button', class: 'secondary', id: 'copy-day', onclick: async () => {
    await copy(text.value);
    say(t('copied'));
    refresh();
  } }, t('copy'));
  return {
    body: [
      el('p', {}, el('a', { href: '#/', class: 'back' }, `← ${t('back')}`)),
      el('h1', {}, t('day_report')),
      picker, text, shareButton, copyButton, canvas,
    ],
    refresh: fill,
  };
}

function card(n, what, id) {
  return el('div', { class: 'card' }, el('div', { class: 'figure', id }, String(n)), el('div', { class: 'what' }, what));
}

/** Where each hamlet's list was left (filter and search), for the way back to it. */
const lastList = new Map();

function listHash(hamlet) {
  return lastList.get(hamlet) ?? `#/h/${encodeURIComponent(hamlet)}`;
}

function hamletScreen(hamlet, params) {
  const filter = params.get('status') ?? '';
  const name = replica.hamlets().find((h) => h.id === hamlet)?.name ?? hamlet;
  const search = el('input', { type: 'search', id: 'search', placeholder: t('search'), 'aria-label': t('search'), value: params.get('q') ?? '' });
  const chips = el('div', { class: 'chips' });
  const list = el('ul', { class: 'list', id: 'households' });
  // Filters as the volunteer types; the hash keeps the search for the way back, without
  // a navigation that would redraw the screen.
  const fill = () => {
    const query = fold(search.value.trim());
    const plain = `#/h/${encodeURIComponent(hamlet)}`;
    const here = filter || search.value ? `${plain}?status=${filter}&q=${encodeURIComponent(search.value)}` : plain;
    lastList.set(hamlet, here);
    if (location.hash !== here) history.replaceState(null, '', here);
    const link = (status) => `#/h/${encodeURIComponent(hamlet)}?status=${status}&q=${encodeURIComponent(search.value)}`;
    chips.replaceChildren(...['', 'not_visited', 'follow_up', 'covered'].map((s) =>
      el('a', { href: link(s), class: `chip ${s || 'all'}`, 'aria-current': s === filter ? 'true' : undefined }, s ? t(s) : t('all'))));
    const shown = replica.households(hamlet)
      .filter((h) => (!filter || h.status === filter) && (!query || fold(`${h.label} ${h.head ?? ''}`).includes(query)));
    list.replaceChildren(...shown.map((h) =>
      el('li', {}, el('a', { href: `#/h/${encodeURIComponent(hamlet)}/v/${h.id}`, class: 'row', 'data-household': h.id },
        el('span', {}, shownLabel(h), h.head ? el('small', { class: 'muted' }, ` · ${h.head}`) : null),
        el('span', { class: `chip ${h.status}` }, t(h.status))))));
  };
  search.addEventListener('input', fill);
  fill();
  return {
    body: [
      el('p', {}, el('a', { href: '#/', class: 'back' }, `← ${t('back')}`)),
      el('h1', {}, name),
      chips,
      search,
      el('a', { href: `#/h/${encodeURIComponent(hamlet)}/add`, class: 'button secondary', id: 'add-household' }, `+ ${t('add_household')}`),
      list,
    ],
    refresh: fill,
  };
}

function counter(name, value, label) {
  const input = el('input', { type: 'number', name, id: name, value: String(value), min: '0', max: '50', inputmode: 'numeric' });
  const step = (d) => () => { input.value = String(Math.max(0, Math.min(50, Number(input.value || 0) + d))); };
  return el('div', { class: 'counter' },
    el('label', { for: name }, label),
    el('button', { type: 'button', class: 'step', onclick: step(-1), 'aria-label': `− ${label}` }, '−'),
    input,
    el('button', { type: 'button', class: 'step', onclick: step(1), 'aria-label': `+ ${label}` }, '+'));
}

/** A household's label, or that its personal data was erased. */
function shownLabel(h) {
  return h.erased ? el('em', { class: 'erased' }, t('erased_household')) : h.label;
}

function visitScreen(hamlet, household) {
  const h = replica.households(hamlet).find((x) => x.id === household);
  if (!h) return [el('p', {}, t('error'))];
  const catalogue = replica.me?.catalogue ?? { topics: [], account_kinds: [] };
  let outcome = null;
  const outcomes = el('div', { class: 'outcomes', role: 'group', 'aria-label': t('outcome') }, OUTCOMES.map((o) =>
    el('button', { type: 'button', class: `outcome ${o}`, 'data-outcome': o, 'aria-pressed': 'false', onclick: (e) => {
      outcome = o;
      for (const b of outcomes.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b === e.currentTarget));
      save.disabled = false;
      // Guiding someone means one person at least: shown, so the volunteer can change it.
      const people = form.querySelector('#people');
      if (o === 'guided' && Number(people.value || 0) === 0) people.value = '1';
    } }, t(o))));
  const topics = el('fieldset', {}, el('legend', {}, t('topics')), catalogue.topics.map((e) =>
    el('label', { class: 'toggle' }, el('input', { type: 'checkbox', name: 'topic', value: e.code }), e.label)));
  const accounts = el('fieldset', {}, el('legend', {}, t('accounts')), catalogue.account_kinds.map((e) => counter(`account-${e.code}`, 0, e.label)));
  const note = el('input', { id: 'note', name: 'note', maxlength: '200' });
  const save = el('button', { type: 'submit', class: 'big', id: 'save-visit', disabled: true }, t('save'));
  const form = el('form', {
    class: 'stack',
    onsubmit: async (e) => {
      e.preventDefault();
      if (!outcome) return;
      const people = Number(form.querySelector('#people').value || 0);
      const form_ = {
        topics: [...form.querySelectorAll('input[name=topic]:checked')].map((i) => i.value),
        accounts: Object.fromEntries(catalogue.account_kinds.map((k) => [k.code, Number(form.querySelector(`#account-${k.code}`).value || 0)])),
        people,
        filed: Number(form.querySelector('#filed').value || 0),
        note: note.value,
      };
      try {
        const started = performance.now();
        await replica.logVisit(hamlet, household, outcome, form_);
        window.__lastVisitMs = performance.now() - started;
        say(t('saved'), 'ok', true);
        location.hash = listHash(hamlet);
        syncNow(false);
      } catch (err) {
        refused(err);
      }
    },
  },
  el('h2', {}, t('outcome')), outcomes, topics, accounts, counter('people', 0, t('people')),
  counter('filed', 0, t('filed')),
  // An erased household keeps no notes: its key is gone.
  ...(h.erased ? [] : [el('label', { for: 'note' }, t('note')), note]), save);
  const chip = el('span', { class: `chip ${h.status}`, id: 'household-status' }, t(h.status));
  const history = el('section', { id: 'history' });
  const last = el('div', { id: 'last-visit' });
  const who = (id) => replica.me?.people?.find((p) => p.id === id)?.name ?? id;
  const line = (v) => `${vnTime(v.at)} · ${t(v.outcome)} · ${who(v.by)}`;
  // What others logged meanwhile arrives with a sync: the status and the history move,
  // the form the volunteer is filling in stays as it is.
  const update = () => {
    const now = replica.households(hamlet).find((x) => x.id === household);
    if (!now) return;
    chip.className = `chip ${now.status}`;
    chip.textContent = t(now.status);
    const past = now.visits.filter((v) => !v.voided).sort((a, b) => b.at - a.at);
    // The reason to come back: the last visit, who came and what they noted, first.
    last.replaceChildren(...(past.length
      ? [el('p', { class: 'last' }, `${t('last_time')}: ${line(past[0])}`), past[0].note ? el('p', { class: 'note' }, `“${past[0].note}”`) : null]
      : []));
    history.replaceChildren(...(past.length > 1
      ? [el('h2', {}, t('history')), el('ul', { class: 'list' }, past.map((v) =>
        el('li', {}, line(v), v.note ? el('div', { class: 'note' }, `“${v.note}”`) : null)))]
      : []));
  };
  update();
  return {
    body: [
      el('p', {}, el('a', { href: listHash(hamlet), class: 'back' }, `← ${t('back')}`)),
      el('h1', {}, shownLabel(h), ' ', chip),
      h.head ? el('p', { class: 'muted' }, h.head) : null,
      last,
      form,
      history,
    ],
    refresh: update,
  };
}

function addScreen(hamlet) {
  // The address a warning was given for: saving it again adds it all the same.
  let warned = null;
  const label = el('input', { id: 'label', name: 'label', required: true, maxlength: '200' });
  const head = el('input', { id: 'head', name: 'head', maxlength: '200' });
  const members = el('input', { id: 'members', name: 'members', type: 'number', min: '0', max: '50', inputmode: 'numeric' });
  const form = el('form', {
    class: 'stack',
    onsubmit: async (e) => {
      e.preventDefault();
      // The same address already listed is most often the same house: say so first.
      const place = samePlace(label.value);
      const listed = replica.households(hamlet).find((h) => samePlace(h.label) === place);
      if (listed && warned !== place) {
        warned = place;
        say(`${t('already_listed')}: ${listed.label}${listed.head ? ` · ${listed.head}` : ''}. ${t('save_again')}`, 'bad');
        refresh();
        return;
      }
      try {
        await replica.addHousehold(hamlet, { label: label.value, head: head.value, members: members.value === '' ? undefined : Number(members.value) });
        say(t('saved'), 'ok', true);
        location.hash = listHash(hamlet);
        syncNow(false);
      } catch (err) {
        refused(err);
      }
    },
  },
  el('label', { for: 'label' }, t('label')), label,
  el('label', { for: 'head' }, t('head')), head,
  el('label', { for: 'members' }, t('members')), members,
  el('button', { type: 'submit', class: 'big', id: 'save-household' }, t('save')));
  return [el('p', {}, el('a', { href: listHash(hamlet), class: 'back' }, `← ${t('back')}`)), el('h1', {}, t('add_household')), form];
}

/** The screen on display: its hash, and how to bring its data up to date in place. */
let screen = { hash: null, refresh: null };
/** Where each screen was scrolled to, for the way back to it. */
const scrolled = new Map();
const screenKey = (hash) => hash.split('?')[0];

/** Draws the screen the hash names, from scratch: on navigation only. */
function render() {
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = (path || '/').split('/').filter(Boolean).map(decodeURIComponent);
  let built;
  if (!replica.enrolled()) built = enrolScreen(new URLSearchParams(location.search).get('code'));
  else if (parts[0] === 'h' && parts[2] === 'v') built = visitScreen(parts[1], parts[3]);
  else if (parts[0] === 'h' && parts[2] === 'add') built = addScreen(parts[1]);
  else if (parts[0] === 'h') built = hamletScreen(parts[1], params);
  else if (parts[0] === 'day') built = dayScreen(params);
  else if (parts[0] === 'c') built = counterScreen(parts[1]);
  else built = { body: homeScreen(), refresh: 'redraw' };
  const { body, refresh: again } = Array.isArray(built) ? { body: built } : built;
  document.documentElement.lang = lang();
  app.replaceChildren(header(), el('main', {}, body));
  screen = { hash: location.hash, refresh: again ?? null };
  window.scrollTo(0, scrolled.get(screenKey(location.hash)) ?? 0);
}

/** Brings what is on display up to date after a sync or a change of signal, without
 *  touching what the volunteer is typing: the header always, and the screen's data
 *  where the screen says how (a list, a household's history). */
function refresh() {
  if (screen.hash === null) return render();
  const y = window.scrollY;
  app.querySelector('header.top')?.replaceWith(header());
  if (screen.refresh === 'redraw') app.querySelector('main')?.replaceChildren(...homeScreen());
  else screen.refresh?.();
  window.scrollTo(0, y);
}

/** A move to another screen: remembers where the last one was scrolled to, and drops
 *  the last one's message (unless it was said for the screen it leads to). */
function navigate() {
  if (screen.hash !== null) scrolled.set(screenKey(screen.hash), window.scrollY);
  if (message?.carry) message.carry = false;
  else message = null;
  render();
}

async function syncNow(byHand) {
  if (syncing || !replica?.enrolled() || !navigator.onLine) return;
  syncing = true;
  refresh();
  let wiped = false;
  try {
    const report = await replica.sync();
    wiped = report.wiped;
    if (report.wiped) say(report.kept ? t('wiped_kept') : report.lost ? `${t('wiped_lost')} (${report.lost})` : t('wiped'), 'bad');
    else if (byHand) say(t('synced'));
  } catch (err) {
    // The server's own message is for the log; the volunteer reads their language.
    if (err instanceof SyncError && err.code !== 'http') console.warn(err.code, err.message);
    say(err instanceof SyncError && err.code !== 'http' ? `${t('sync_failed')} (${apiText(err.code)})` : t('sync_failed'), 'bad');
  } finally {
    syncing = false;
    // A wiped phone has no screen left but enrolment; anything else stays where it is.
    if (wiped) render();
    else refresh();
  }
}

async function start() {
  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
  }
  replica = await Replica.open(await Store.open());
  window.__replica = replica;
  window.__syncNow = syncNow;
  window.addEventListener('hashchange', navigate);
  window.addEventListener('online', () => { refresh(); syncNow(false); });
  window.addEventListener('offline', refresh);
  setInterval(() => syncNow(false), SYNC_EVERY_MS);
  render();
  document.body.dataset.ready = 'true';
  // Since the page started loading: what reopening the app costs (the browser tests report it).
  window.__readyMs = performance.now();
  syncNow(false);
}

start().catch((err) => {
  app.replaceChildren(el('p', { class: 'message bad' }, `${t('error')}: ${err.message}`));
});
