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
  return { before, after, report };
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
    return { up: report.up, down: report.down, rounds: report.rounds, pending: r.pending() };
  });
  await context.close();
  return out;
}

const phases = { enrol, resume, sync, wire };
console.log(JSON.stringify(await phases[phase]()));
