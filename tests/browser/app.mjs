// The phone app in a real headless Chromium with a persistent profile (so closing and
// reopening the browser is like closing and reopening the phone's browser), against a
// real server on loopback. The Rust test `e2e::phone` runs it in phases:
//
//   enrol <base> <json {code, profile}>   open the enrolment link, enrol, go offline,
//                                         reload (the service worker serves the app),
//                                         log 5 visits and add a household, close.
//   resume <base> <json {profile}>        reopen offline: everything is still there;
//                                         go online and sync.
//   sync <base> <json {profile}>          open online and sync; report what it holds.
//   slow <base> <json {code, profile}>    with a 4× slower CPU and slow 3G: saving a
//                                         visit, reopening, searching 400 households.
//   typing <base> <json {code, profile, steps}>
//                                         fill in a visit and a new household while
//                                         syncs come and go (a teammate's visit arrives
//                                         midway: `step`); search, go and come back.
//   counter <base> <json {code, profile, counter}>
//                                         at a one-stop counter, offline: a walk-in
//                                         refused, two logged, reopened, synced.
//   household <base> <json {profile, hamlet, household, code?, sync}>
//                                         enrol (with a code) or reopen, sync if asked,
//                                         and report how the household shows on its
//                                         list and its visit screen, and whether its
//                                         key is in IndexedDB (read through the page).
//
// Each phase prints one JSON line last; any failed assertion exits non-zero.

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [phase, base, argText] = process.argv.slice(2);
const arg = JSON.parse(argText);

async function open(offline) {
  const context = await chromium.launchPersistentContext(arg.profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
    viewport: { width: 390, height: 844 },
    offline,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('page error:', e.message));
  return { context, page };
}

/** What the phone holds: per hamlet, its heads and households' statuses. */
async function holdings(page) {
  return page.evaluate(async () => {
    const r = window.__replica;
    const { getHeads } = await import('@automerge/automerge/slim');
    const out = {};
    for (const { id } of r.hamlets()) {
      const list = r.households(id);
      out[id] = {
        heads: getHeads(r.docs.get(id)).sort(),
        households: list.length,
        covered: list.filter((h) => h.status === 'covered').length,
        follow_ups: list.filter((h) => h.status === 'follow_up').length,
        visits: list.reduce((n, h) => n + h.visits.filter((v) => !v.voided).length, 0),
      };
    }
    return { enrolled: r.enrolled(), pending: r.pending(), hamlets: out };
  });
}

async function ready(page) {
  await page.waitForSelector('body[data-ready=true]');
}

async function enrol() {
  const { context, page } = await open(false);
  await page.goto(`${base}/app/enrol?code=${arg.code}`);
  await ready(page);
  assert.equal(await page.inputValue('#code'), arg.code, 'the link fills in the code');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#hamlets');
  // First load: the page and everything it fetched, as bytes on the wire.
  const firstLoad = await page.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .filter((e) => !e.name.includes('/api/'))
      .reduce((n, e) => n + e.transferSize, 0));
  await page.evaluate(() => navigator.serviceWorker.ready);

  // Offline from here: the service worker serves the app.
  await context.setOffline(true);
  await page.reload();
  await ready(page);
  await page.waitForSelector('#hamlets');
  const reload = await page.evaluate(() =>
    [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
      .reduce((n, e) => n + e.transferSize, 0));
  assert.equal(await page.getAttribute('#sync-state', 'data-online'), 'false');

  await page.click('#hamlets a >> nth=0');
  const hamlet = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
  const outcomes = ['guided', 'not_home', 'already_done', 'guided', 'revisit'];
  const visited = [];
  const ms = [];
  for (let i = 0; i < outcomes.length; i++) {
    const row = page.locator('#households a').nth(i);
    visited.push(await row.getAttribute('data-household'));
    await row.click();
    await page.click(`button[data-outcome=${outcomes[i]}]`);
    if (outcomes[i] === 'guided') await page.click('.counter:has(#account-vneid_l2) button[aria-label^="+"]');
    // The first guided visit also filed a dossier online.
    if (i === 0) await page.click('.counter:has(#filed) button[aria-label^="+"]');
    await page.click('#save-visit');
    await page.waitForSelector('#message');
    assert.equal(await page.textContent('#message'), 'Đã lưu.');
    ms.push(await page.evaluate(() => window.__lastVisitMs));
  }
  // A label of spaces passes the browser's `required` but not the rules: refused with a
  // message, nothing stored.
  await page.click('#add-household');
  await page.fill('#label', '   ');
  await page.click('#save-household');
  await page.waitForSelector('#message.bad');
  assert.match(await page.textContent('#message'), /Chưa hợp lệ: Số nhà, ngõ/);
  assert.equal(await page.getAttribute('#sync-state', 'data-pending'), '5', 'nothing was stored');
  await page.fill('#label', 'Số 99, hẻm <mới>');
  await page.fill('#head', 'Trần Văn Mới');
  await page.click('#save-household');
  // The refusal's message is still on screen: wait for the count, not for a message.
  await page.waitForSelector('#sync-state[data-pending="6"]', { timeout: 10000 }).catch(() => {});
  assert.equal(await page.getAttribute('#sync-state', 'data-pending'), '6', '5 visits and 1 household wait');
  await context.close();
  return { hamlet, visited, ms, firstLoad, reload };
}

async function resume() {
  const { context, page } = await open(true);
  await page.goto(`${base}/app/`);
  await ready(page);
  assert.equal(await page.getAttribute('#sync-state', 'data-pending'), '6', 'everything is still there');
  const before = await holdings(page);
  const day = await myDay(page, context);
  await page.goto(`${base}/app/#/`);
  await page.click('#hamlets a >> nth=0');
  assert.equal(await page.locator('#households a', { hasText: 'Số 99, hẻm <mới>' }).count(), 1, 'the new household is listed, as text');
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.waitForSelector('#sync-state[data-pending="0"][data-online="true"]', { timeout: 15000 }).catch(async (e) => {
    throw new Error(`the phone did not sync: ${await page.locator('header').innerText()}\n${e.message}`);
  });
  await page.waitForFunction(() => window.__replica.lastReport);
  const report = await page.evaluate(() => window.__replica.lastReport);
  const after = await holdings(page);
  await context.close();
  return { before, after, report, day };
}

/** The volunteer's day, offline: the report's text, its card, the share sheet (a
 *  stand-in that records what it was given), and copying where there is none. */
async function myDay(page, context) {
  await page.click('#open-day');
  await page.waitForSelector('#day-text');
  const text = await page.inputValue('#day-text');
  for (const line of ['- Lượt đến hộ: 5 (trong đó hướng dẫn: 2)', '- Tài khoản đã tạo: 2 (VNeID mức 2: 2)',
    '- Hồ sơ nộp trực tuyến: 1', '- Hộ được bao phủ mới: 3']) {
    assert.ok(text.includes(line), `the day's text says “${line}”:\n${text}`);
  }
  assert.equal(await page.$eval('#day-card', (c) => c.width), 1080, 'the card is drawn at 1080 pixels');
  await page.evaluate(() => {
    Object.defineProperty(navigator, 'canShare', { configurable: true, value: () => true });
    Object.defineProperty(navigator, 'share', {
      configurable: true,
      value: async (data) => { window.__shared = { text: data.text, files: (data.files ?? []).map((f) => ({ name: f.name, type: f.type, size: f.size })) }; },
    });
  });
  await page.click('#share-day');
  await page.waitForFunction(() => window.__shared);
  const shared = await page.evaluate(() => window.__shared);
  assert.equal(shared.text, text, 'the share sheet gets the text');
  assert.equal(shared.files.length, 1);
  assert.equal(shared.files[0].type, 'image/png');
  assert.ok(shared.files[0].size > 10000, `and the card as a PNG (${shared.files[0].size} B)`);
  // Without a share sheet, the text is copied.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await page.evaluate(() => {
    Object.defineProperty(navigator, 'canShare', { configurable: true, value: undefined });
    Object.defineProperty(navigator, 'share', { configurable: true, value: undefined });
  });
  await page.click('#share-day');
  await page.waitForSelector('#message');
  assert.equal(await page.textContent('#message'), 'Đã sao chép nội dung báo cáo.');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text, 'the text is on the clipboard');
  return { text, card: shared.files[0].size };
}

async function sync() {
  const { context, page } = await open(false);
  await page.goto(`${base}/app/`);
  await ready(page);
  await page.evaluate(() => window.__replica.sync());
  await page.reload();
  await ready(page);
  const held = await holdings(page);
  const screen = await page.locator('main').innerText();
  await context.close();
  return { ...held, screen };
}

/** 30 visits logged through the app's replica (as the visit screen does), then one
 *  sync: the bytes per visit the README reports, comparable with the CLI's figure. */
async function wire() {
  const { context, page } = await open(false);
  await page.goto(`${base}/app/`);
  await ready(page);
  const out = await page.evaluate(async () => {
    const r = window.__replica;
    await r.sync();
    const hamlet = r.hamlets()[0].id;
    const list = r.households(hamlet);
    const outcomes = ['guided', 'not_home', 'already_done', 'declined', 'revisit'];
    for (let i = 0; i < 30; i++) {
      const form = { topics: ['vneid'], accounts: i % 3 ? {} : { vneid_l2: 1 }, people: 1 + (i % 3), note: '' };
      await r.logVisit(hamlet, list[i % list.length].id, outcomes[i % 5], form);
    }
    const report = await r.sync();
    return { up: report.up, down: report.down, rounds: report.rounds, pending: r.pending(), squash: r.lastSquash };
  });
  await context.close();
  return out;
}

const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();

/** Waits for the Rust test to do its part: it prints `step <name>` and waits for the
 *  file `<dir>/<name>` to appear. */
async function step(name) {
  console.log(`step ${name}`);
  const { existsSync } = await import('node:fs');
  for (let i = 0; i < 600 && !existsSync(`${arg.steps}/${name}`); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(`${arg.steps}/${name}`), `the test did its part (${name})`);
}

/** What a visit form holds, as the volunteer sees it. */
async function visitForm(page) {
  return page.evaluate(() => ({
    outcome: document.querySelector('.outcomes button[aria-pressed=true]')?.dataset.outcome ?? null,
    topics: [...document.querySelectorAll('input[name=topic]:checked')].map((i) => i.value),
    people: document.querySelector('#people').value,
    note: document.querySelector('#note').value,
    save: !document.querySelector('#save-visit').disabled,
  }));
}

/** A volunteer fills in forms while syncs come and go: nothing typed is lost, the
 *  search and the place in the list are kept, and "Đã lưu." stays until they move on. */
async function typing() {
  const { context, page } = await open(false);
  // A mistyped code: refused in Vietnamese, and what was typed stays to be corrected.
  await page.goto(`${base}/app/enrol?code=SAIMA12345`);
  await ready(page);
  await page.fill('#device-name', 'Điện thoại của Lan');
  await page.click('form button[type=submit]');
  await page.waitForSelector('#message.bad');
  assert.equal(await page.textContent('#message'), 'Mã đăng ký không đúng, đã dùng hoặc đã hết hạn. Hãy xin tổ trưởng mã mới.');
  assert.equal(await page.inputValue('#device-name'), 'Điện thoại của Lan');
  await page.fill('#code', arg.code);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#hamlets');
  assert.match(await page.locator('#hamlets a').first().innerText(), /\d+\/\d+ hộ đã bao phủ/, 'the counts say what they count');
  await page.click('#hamlets a >> nth=0');
  await page.waitForSelector('#households');

  // Readable in the sun: the disabled Save is opaque, the way back a full touch target.
  await page.click('#households a >> nth=0');
  await page.waitForSelector('#save-visit');
  const save = await page.evaluate(() => {
    const s = getComputedStyle(document.querySelector('#save-visit'));
    return { disabled: document.querySelector('#save-visit').disabled, opacity: s.opacity, background: s.backgroundColor };
  });
  assert.ok(save.disabled && save.opacity === '1' && !save.background.startsWith('rgba'), `disabled Save: ${JSON.stringify(save)}`);
  const way = await page.locator('a.back').boundingBox();
  assert.ok(way && way.height >= 44, `the way back is ${way?.height} px tall`);
  await page.click('a.back');
  await page.waitForSelector('#households');

  // Search as one types, without diacritics, on the label and on the head's name.
  // textContent, not innerText: rows off screen skip rendering (`content-visibility`),
  // and innerText reads as empty for a row not laid out yet.
  const labels = async () =>
    (await page.locator('#households a > span:first-child').allTextContents()).map((l) => l.trim());
  await page.type('#search', 'so 1');
  const found = await labels();
  assert.ok(found.length >= 2 && found.every((l) => fold(l).includes('so 1')), `searched "so 1": ${found}`);
  await page.fill('#search', 'nguyen van 12');
  assert.deepEqual((await labels()).map((l) => l.split(' · ')[0]), ['Số 12, hẻm 2'], 'a head’s name, without diacritics');
  await page.fill('#search', 'so 1');
  await page.click('#households a >> nth=0');
  await page.waitForSelector('#save-visit');
  await page.click('a.back');
  await page.waitForSelector('#households');
  assert.equal(await page.inputValue('#search'), 'so 1', 'the search is kept on the way back');
  assert.deepEqual(await labels(), found);

  // The place in a long list is kept too.
  await page.fill('#search', '');
  await page.evaluate(() => window.scrollTo(0, 600));
  const y = await page.evaluate(() => window.scrollY);
  assert.ok(y > 300, `the list scrolls (${y})`);
  const row = page.locator('#households a').nth(14);
  await row.click();
  await page.waitForSelector('#save-visit');
  await page.click('a.back');
  await page.waitForSelector('#households');
  const back = await page.evaluate(() => window.scrollY);
  assert.ok(Math.abs(back - y) < 60, `scrolled to ${y}, back at ${back}`);

  // A visit half filled in...
  await page.fill('#search', 'so 3, hem 2');
  await page.click('#households a >> nth=0');
  await page.waitForSelector('#save-visit');
  await page.click('button[data-outcome=guided]');
  assert.equal(await page.inputValue('#people'), '1', 'guiding someone shows one person, to change');
  await page.click('input[name=topic] >> nth=0');
  await page.click('.counter:has(#people) button[aria-label^="+"]');
  await page.click('.counter:has(#people) button[aria-label^="+"]');
  await page.fill('#note', 'Hẹn chiều mai');
  const filled = await visitForm(page);
  // ...while a teammate visits the same house and every kind of sync happens.
  await step('teammate-visits');
  await page.click('#sync-now');
  await page.waitForSelector('#message:has-text("Đã đồng bộ.")');
  // The teammate's visit arrived: when, what came of it, who came and their note.
  const story = await page.locator('#last-visit').innerText();
  assert.match(story, /Lần trước: .* · Vắng nhà · tnv2/, story);
  assert.match(story, /“Hẹn tối nay”/, story);
  assert.deepEqual(await visitForm(page), filled, 'a sync by hand keeps the form');
  await page.evaluate(() => window.__syncNow(false));
  await context.setOffline(true);
  await page.evaluate(() => window.dispatchEvent(new Event('offline')));
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.evaluate(() => window.__syncNow(false));
  assert.deepEqual(await visitForm(page), filled, 'automatic syncs and a flickering signal keep the form');

  // Guided with nobody helped and no topic is refused, saying what to do; the form stays.
  await page.fill('#people', '0');
  await page.click('input[name=topic] >> nth=0');
  await page.click('#save-visit');
  await page.waitForSelector('#message.bad');
  assert.match(await page.textContent('#message'), /chọn ít nhất một nội dung hoặc ghi số người/);
  assert.equal(await page.inputValue('#note'), 'Hẹn chiều mai');
  await page.fill('#people', filled.people);
  await page.click('input[name=topic] >> nth=0');
  assert.deepEqual(await visitForm(page), filled);

  // Saved: the message stays through the sync that follows the save.
  await page.click('#save-visit');
  await page.waitForSelector('#households');
  await page.waitForFunction(() => window.__replica.pending() === 0 && !document.querySelector('#sync-now').disabled);
  assert.equal(await page.textContent('#message'), 'Đã lưu.', 'the message outlives the sync');
  assert.equal(await page.inputValue('#search'), 'so 3, hem 2', 'back to the list as it was left');

  // Adding a household: an address already listed is pointed out before saving.
  await page.click('#add-household');
  const waiting = await page.getAttribute('#sync-state', 'data-pending');
  await page.fill('#label', 'so 3 hem 2');
  await page.click('#save-household');
  await page.waitForSelector('#message.bad');
  assert.match(await page.textContent('#message'), /Địa chỉ này đã có trong danh sách: Số 3, hẻm 2/);
  assert.equal(await page.getAttribute('#sync-state', 'data-pending'), waiting, 'nothing was stored');
  // A refusal and a sync keep what was typed.
  await page.fill('#head', 'Trần Văn Mới');
  await page.fill('#label', '   ');
  await page.click('#save-household');
  await page.waitForSelector('#message.bad');
  assert.equal(await page.inputValue('#head'), 'Trần Văn Mới', 'a refusal keeps the form');
  await page.fill('#label', 'Số 77, hẻm 7');
  await page.evaluate(() => window.__syncNow(false));
  assert.equal(await page.inputValue('#label'), 'Số 77, hẻm 7');
  assert.equal(await page.inputValue('#head'), 'Trần Văn Mới');
  await page.click('#save-household');
  // Saved (sealing it under its new key takes a moment), then synced.
  await page.waitForSelector('#message.ok:has-text("Đã lưu.")');
  await page.waitForFunction(() => window.__replica.pending() === 0 && !document.querySelector('#sync-now').disabled);
  await context.close();
  return { filled };
}

/** The phone as volunteers have it: Chromium's CPU 4× slower and slow 3G, through the
 *  DevTools protocol. Reports, over 5 tries each: saving a visit until the list is back,
 *  reopening the app until its screen is drawn, and one keystroke of search in a list
 *  of 400 until it is filtered. The Rust test prints them (targets live in BENCHMARKS.md,
 *  not in asserts). */
async function slow() {
  const { context, page } = await open(false);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 400, downloadThroughput: (400 * 1024) / 8, uploadThroughput: (400 * 1024) / 8,
  });
  // The enrolment link opened for the first time: nothing cached yet.
  await page.goto(`${base}/app/enrol?code=${arg.code}`, { timeout: 120000 });
  await page.waitForSelector('body[data-ready=true]', { timeout: 120000 });
  const enrolPage = await page.evaluate(() => window.__readyMs);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#hamlets', { timeout: 60000 });
  await page.evaluate(() => navigator.serviceWorker.ready);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const save = [];
  const reopen = [];
  const keystroke = [];
  const stored = [];
  await page.click('#hamlets a >> nth=0');
  await page.waitForSelector('#households');
  const parts = [];
  for (let i = 0; i < 5; i++) {
    // Reopened on the list, as a volunteer's phone reopens where they left it.
    await page.reload();
    await ready(page);
    reopen.push(await page.evaluate(() => window.__readyMs));
    await page.waitForSelector('#households');
    parts.push(await page.evaluate(() => {
      const r = window.__replica;
      const hamlet = r.hamlets()[0].id;
      const t0 = performance.now();
      r.households(hamlet);
      return performance.now() - t0;
    }));
    const count = await page.locator('#households li').count();
    assert.ok(count >= 400, `a list of 400 (${count})`);
    keystroke.push(await page.evaluate((typed) => new Promise((resolve) => {
      const search = document.querySelector('#search');
      const t0 = performance.now();
      search.value = typed;
      search.dispatchEvent(new Event('input'));
      requestAnimationFrame(() => resolve(performance.now() - t0));
    }), `so ${i + 1}`));
    await page.fill('#search', '');
    await page.click(`#households a >> nth=${i * 7}`);
    await page.waitForSelector('#save-visit');
    await page.click('button[data-outcome=not_home]');
    save.push(await page.evaluate(() => new Promise((resolve) => {
      const t0 = performance.now();
      const seen = new MutationObserver(() => {
        if (document.querySelector('#households')) {
          seen.disconnect();
          requestAnimationFrame(() => resolve(performance.now() - t0));
        }
      });
      seen.observe(document.body, { childList: true, subtree: true });
      document.querySelector('#save-visit').click();
    })));
    stored.push(await page.evaluate(() => window.__lastVisitMs));
  }
  await context.close();
  return {
    save_ms: median(save), reopen_ms: median(reopen), keystroke_ms: median(keystroke), households_ms: median(parts),
    stored_ms: median(stored),
    enrol_page_ms: enrolPage,
    save, reopen, keystroke,
  };
}

/** At the one-stop counter, offline: enrol, then log two walk-ins with no network (one
 *  refused first: nobody helped), reopen, and sync when the network returns. */
async function counter() {
  const { context, page } = await open(false);
  await page.goto(`${base}/app/enrol?code=${arg.code}`);
  await ready(page);
  await page.click('form button[type=submit]');
  await page.waitForSelector('#hamlets');
  await context.setOffline(true);
  await page.click(`#hamlets a[data-counter="${arg.counter}"]`);
  await page.waitForSelector('#save-walkin');
  // Nobody helped is no walk-in: refused with the reason, nothing stored.
  await page.fill('#people', '0');
  await page.click('#save-walkin');
  await page.waitForSelector('#message.bad');
  assert.equal(await page.textContent('#message'), 'Một lượt tại quầy hỗ trợ ít nhất một người.');
  await page.fill('#people', '2');
  await page.click('.counter:has(#account-dvc) button[aria-label^="+"]');
  await page.click('.counter:has(#filed) button[aria-label^="+"]');
  await page.fill('#note', 'Nộp hồ sơ khai sinh');
  await page.click('#save-walkin');
  await page.waitForSelector('#message.ok');
  await page.click('#save-walkin');
  await page.waitForSelector('#walkins-today h2:has-text("(2)")');
  assert.equal(await page.getAttribute('#sync-state', 'data-pending'), '2', 'two walk-ins wait for the network');
  // Reopened offline, they are still there; the day's report has their line.
  await page.reload();
  await ready(page);
  await page.goto(`${base}/app/#/day`);
  await page.waitForSelector('#day-text');
  const day = await page.inputValue('#day-text');
  assert.ok(day.includes('- Tại quầy: 2 lượt, 3 người, 1 tài khoản, 1 hồ sơ trực tuyến'), day);
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.waitForSelector('#sync-state[data-pending="0"][data-online="true"]', { timeout: 15000 });
  await context.close();
  return { day };
}

/** One household as the phone shows it, and whether the phone keeps its key. */
async function household() {
  const { context, page } = await open(false);
  if (arg.code) {
    await page.goto(`${base}/app/enrol?code=${arg.code}`);
    await ready(page);
    await page.click('form button[type=submit]');
    await page.waitForSelector('#hamlets');
  } else {
    await page.goto(`${base}/app/`);
    await ready(page);
  }
  if (arg.sync) await page.evaluate(() => window.__replica.sync());
  await page.goto(`${base}/app/#/h/${encodeURIComponent(arg.hamlet)}`);
  await page.waitForSelector(`#households a[data-household="${arg.household}"]`);
  const row = page.locator(`#households a[data-household="${arg.household}"]`);
  const listed = await row.innerText();
  const erasedOnList = (await row.locator('em.erased').count()) === 1;
  await row.click();
  await page.waitForSelector('#save-visit');
  const title = await page.locator('h1').innerText();
  const noteField = (await page.locator('#note').count()) === 1;
  const screen = await page.locator('main').innerText();
  // IndexedDB itself, not the replica's memory: the key's record for this household.
  const stored = await page.evaluate(({ hamlet, household }) => new Promise((resolve, reject) => {
    const req = indexedDB.open('tungnha');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const tx = req.result.transaction('keys');
      const get = tx.objectStore('keys').get([hamlet, household]);
      get.onsuccess = () => resolve(get.result ? Array.from(get.result.key) : null);
      get.onerror = () => reject(get.error);
    };
  }), { hamlet: arg.hamlet, household: arg.household });
  await context.close();
  return { listed, erasedOnList, title, noteField, screen, key: stored };
}

const phases = { enrol, resume, sync, wire, typing, slow, counter, household };
console.log(JSON.stringify(await phases[phase]()));
