// The web dashboards in a real headless Chromium (Debian's, driven by playwright-core),
// against a real server on loopback started by the Rust test `e2e::browser`, which runs
// this script in phases and checks what the server stored in between:
//
//   node web.mjs setup <base>          an official takes kp-2 back from the team, adds
//                                      tnv9 to it and assigns tnv9 to kp-2 on their own,
//                                      and sets kp-1's target; the leader makes an
//                                      enrolment code.
//                                      Prints {"code", "link"}.
//   node web.mjs check <base> <json>   the dashboards show the expected figures; the
//                                      Excel export is saved; the day's report copies
//                                      and draws its card; a month's dossier statistics
//                                      are imported from a chosen CSV file; CSRF, 403 and the
//                                      English switch; the leader removes a household
//                                      listed in the field and revokes the device.
//   node web.mjs province <base> <json> the province officer lands on the province
//                                      dashboard, sorts and filters communes, opens
//                                      one read-only, exports the province report and
//                                      copies the province's day's report.
//
// Every step asserts; the first failure exits non-zero with its reason. Screenshots go
// to the directory the Rust test names.

import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const [phase, base, arg] = process.argv.slice(2);
const HAMLET = 'p-test.kp-1';
const OTHER_HAMLET = 'p-test.kp-2';
const PASSWORD = 'mat-khau-thu';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});

async function signIn(username, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(base + '/');
  assert.match(page.url(), /\/login/, 'anyone not signed in is sent to sign in');
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForLoadState('load'), page.click('form[action="/login"] button[type=submit]')]);
  return { context, page };
}

/** The contrast ratio (WCAG) of an element's text against the background it is drawn on. */
async function contrast(locator) {
  return locator.evaluate((node) => {
    const rgb = (c) => c.match(/[\d.]+/g).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    let back = 'rgb(255, 255, 255)';
    for (let e = node; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { back = c; break; }
    }
    const [a, b] = [lum(rgb(getComputedStyle(node).color)), lum(rgb(back))].sort((x, y) => y - x);
    return (a + 0.05) / (b + 0.05);
  });
}

async function text(page, selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

/** Today's report from a dashboard's link, ready for the Zalo group: the text says
 *  what the table says and copies, the card is drawn. */
async function dayReport(context, page, shot) {
  await page.click('#day-report');
  await page.waitForSelector('#report-text');
  const report = await page.inputValue('#report-text');
  assert.match(report, /^BÁO CÁO NGÀY \d\d\/\d\d\/\d{4}\n/, report);
  const dayVisits = await text(page, 'td[data-figure="day_visits"]');
  assert.ok(report.includes(`- Lượt đến hộ: ${dayVisits} (`), `the text says what the table says:\n${report}`);
  await page.waitForFunction(() => document.querySelector('#report-card').complete);
  assert.equal(await page.$eval('#report-card', (img) => img.naturalWidth), 1080, 'the card is drawn');
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  await page.click('#copy-report');
  await page.waitForFunction(() => document.querySelector('#copy-report').textContent === 'Đã sao chép');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), report, 'the text is on the clipboard');
  await page.screenshot({ path: shot, fullPage: true });
}

async function setup() {
  // An official takes the second khu phố back from the team and adds a volunteer to it.
  const { context, page } = await signIn('canbo');
  assert.equal(new URL(page.url()).pathname, '/communes/p-test');
  await page.click('nav >> text=Tổ công nghệ số');
  await page.click('table#teams a:has-text("Tổ công nghệ số")');
  await page.locator(`li[data-hamlet="${OTHER_HAMLET}"]`).getByRole('button', { name: 'Thu lại' }).click();
  await page.waitForSelector('.notice');
  assert.equal(await page.locator(`li[data-hamlet="${OTHER_HAMLET}"]`).count(), 0, 'kp-2 is no longer the team\'s');
  // A volunteer may not lead: the form says so next to its field, and nothing changes.
  await page.selectOption('#member', 'tnv9');
  await page.check('form:has(#member) input[name=lead]');
  await page.click('form:has(#member) button[type=submit]');
  await page.waitForSelector('#err-user');
  assert.equal(await text(page, '#err-user'), 'Chỉ người có vai trò tổ trưởng mới làm tổ trưởng được.');
  assert.equal(await page.locator('li[data-member="tnv9"]').count(), 0);
  // As a member, they join.
  await page.selectOption('#member', 'tnv9');
  await page.click('form:has(#member) button[type=submit]');
  await page.waitForSelector('li[data-member="tnv9"]');

  // The assignments page says where each access comes from; tnv9 also helps in kp-2.
  await page.click('nav >> text=Phân công');
  assert.match(await page.locator(`section[data-hamlet="${HAMLET}"] .via-team`).innerText(), /tnv9.*qua tổ Tổ công nghệ số/);
  assert.match(await page.locator(`section[data-hamlet="${OTHER_HAMLET}"] .team-of`).innerText(), /Chưa giao cho tổ nào/);
  const section = page.locator(`section[data-hamlet="${OTHER_HAMLET}"]`);
  await section.locator('select[name=user]').selectOption('tnv9');
  await section.getByRole('button', { name: 'Phân công', exact: true }).click();
  await page.waitForSelector('.notice');
  assert.equal(await text(page, '.notice'), 'Đã lưu.');
  assert.match(await page.locator(`section[data-hamlet="${OTHER_HAMLET}"] .own`).innerText(), /tnv9.*phân công riêng/);

  // Link-like buttons are readable (they were white on white).
  const unassign = section.getByRole('button', { name: 'Bỏ phân công' }).first();
  assert.ok(await contrast(unassign) >= 4.5, `"Bỏ phân công" contrast ${await contrast(unassign)}`);

  // The browser itself refuses a negative target; 123 is saved.
  const target = page.locator(`section[data-hamlet="${HAMLET}"] input[name=target]`);
  await target.fill('-5');
  assert.equal(await target.evaluate((e) => e.validity.rangeUnderflow), true);
  await target.fill('123');
  await page.locator(`section[data-hamlet="${HAMLET}"] button:has-text("Lưu chỉ tiêu")`).click();
  await page.waitForSelector('.notice');
  assert.equal(await page.locator(`section[data-hamlet="${HAMLET}"] input[name=target]`).inputValue(), '123');

  // Bad input the browser cannot know about comes back with the message next to its
  // field and what was typed: a username that is taken.
  await page.click('nav >> text=Người dùng');
  const lock = page.getByRole('button', { name: 'Khóa tài khoản' }).first();
  assert.ok(await contrast(lock) >= 4.5, `"Khóa tài khoản" contrast ${await contrast(lock)}`);
  await page.fill('#new-name', 'Trần Văn Trùng');
  await page.fill('#new-username', 'tnv1');
  await page.click('form[action$="/people"] button[type=submit]');
  await page.waitForSelector('#err-username');
  assert.equal(await text(page, '#err-username'), 'Tên đăng nhập này đã có người dùng.');
  assert.equal(await page.inputValue('#new-name'), 'Trần Văn Trùng');

  // A POST without the CSRF token is refused, even with the session cookie.
  const forged = await context.request.post(base + '/communes/p-test/targets', {
    form: { hamlet: HAMLET, target: '7' },
    maxRedirects: 0,
  });
  assert.equal(forged.status(), 403, 'a form without its CSRF token is refused');
  await context.close();

  // The leader makes an enrolment code for the new member, shown as a QR.
  const leader = await signIn('totruong', { width: 412, height: 915 });
  assert.equal(new URL(leader.page.url()).pathname, '/team');
  await leader.page.selectOption('#member', 'tnv9');
  await leader.page.click('#enrol button[type=submit]');
  await leader.page.waitForSelector('#enrol-code');
  const code = await text(leader.page, '#enrol-code');
  const link = await leader.page.getAttribute('#enrol-link', 'href');
  assert.match(code, /^[A-Z2-9]{10}$/);
  assert.equal(link, `${base}/app/enrol?code=${code}`);
  assert.equal(await leader.page.locator('.qr svg').count(), 1, 'the QR code is drawn');
  await leader.context.close();
  return { code, link };
}

async function check(expected) {
  const shots = expected.screenshots;
  const { context, page } = await signIn('canbo');
  const row = page.locator(`tr[data-hamlet="${HAMLET}"]`);
  const figure = async (name) => (await row.locator(`td[data-figure="${name}"]`).innerText()).trim();
  for (const name of ['covered', 'visits', 'accounts', 'people', 'follow_ups', 'to_cover']) {
    assert.equal(await figure(name), String(expected[name]), `the dashboard's ${name}`);
  }
  // The rows add up to the totals, and the commune's coverage is derived from them.
  const number = (s) => Number(s.trim().replace(/\./g, '').replace(',', '.'));
  for (const name of ['covered', 'to_cover', 'visits', 'accounts', 'people', 'follow_ups']) {
    const cells = await page.locator(`td[data-figure="${name}"]`).allInnerTexts();
    const sum = cells.reduce((n, c) => n + number(c), 0);
    const total = number(await text(page, `[data-total="${name}"] .figure`));
    assert.equal(sum, total, `the ${name} column sums to its total`);
  }
  const covered = number(await text(page, '[data-total="covered"] .figure'));
  const toCover = number(await text(page, '[data-total="to_cover"] .figure'));
  const shown = number((await text(page, '[data-total="ratio"] .figure')).replace('%', ''));
  assert.ok(Math.abs(shown - (100 * covered) / toCover) < 0.1, `coverage ${shown}% = ${covered} ÷ ${toCover}`);
  assert.equal(await page.getAttribute('html', 'lang'), 'vi');
  await page.screenshot({ path: `${shots}/commune-dashboard.png`, fullPage: true });

  // The Excel export, saved for the Rust test to read back.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Xuất Excel')]);
  await download.saveAs(expected.xlsx);

  await dayReport(context, page, `${shots}/day-report.png`);

  // Last month's dossier statistics, from the portal's CSV chosen as a file.
  const vn = new Date(Date.now() + 7 * 3600_000);
  const last = new Date(Date.UTC(vn.getUTCFullYear(), vn.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
  await page.goto(`${base}/communes/p-test/filing`);
  await page.setInputFiles('#csv-file', {
    name: 'thong-ke.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(`month;commune;total;online\n${last};p-test;200;98\n`),
  });
  await page.waitForFunction(() => document.querySelector('#csv').value.includes('p-test'));
  await Promise.all([page.waitForLoadState('load'), page.click('#filing-import button[type=submit]')]);
  assert.equal(await text(page, `#filing-months tr[data-month="${last}"] td[data-figure="rate"]`), '49,0%');
  await page.screenshot({ path: `${shots}/filing.png`, fullPage: true });
  await page.goto(`${base}/communes/p-test`);

  // The hamlet page, its follow-up filter and a household's history.
  await row.locator('a').first().click();
  await page.waitForSelector('#household-list');
  await page.screenshot({ path: `${shots}/hamlet.png`, fullPage: true });
  // The list filters as one types, without diacritics, before any search is sent.
  await page.type('#q', 'so 1');
  const visible = await page.locator('#household-list tbody tr:not([hidden]) td:first-child').allInnerTexts();
  const fold = (s) => s.normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();
  assert.ok(visible.length > 0 && visible.every((l) => fold(l).includes('so 1')), `filtered as typed: ${visible}`);
  assert.equal(await text(page, '#shown-count'), String(visible.length));
  await page.fill('#q', '');
  await page.selectOption('#status', 'follow_up');
  await page.click('form[role=search] button[type=submit]');
  await page.waitForLoadState('load');
  assert.equal(await page.locator('#household-list tbody tr').count(), expected.follow_ups);
  await page.locator('#household-list tbody tr a').first().click();
  assert.match(await text(page, '#visits tbody'), /Vắng nhà|Hẹn quay lại/);

  // English, remembered across pages and reloads.
  await page.click('text=English');
  await page.waitForLoadState('load');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.goto(`${base}/communes/p-test`);
  assert.match(await page.locator('#totals').innerText(), /Coverage/);
  await page.reload();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await context.close();

  // A volunteer is sent to the phone app and may not see the commune's dashboard.
  const volunteer = await signIn('tnv1');
  assert.equal(new URL(volunteer.page.url()).pathname, '/');
  assert.match(await text(volunteer.page, '#volunteer-home'), /ứng dụng Từng Nhà trên điện thoại/);
  assert.equal(await volunteer.page.getAttribute('#volunteer-home a.button', 'href'), '/app');
  const denied = await volunteer.page.goto(`${base}/communes/p-test`);
  assert.equal(denied.status(), 403);
  assert.match(await text(volunteer.page, 'h1'), /Không có quyền truy cập/);
  await volunteer.context.close();

  // On a phone, the leader reviews the house the volunteer listed in the field and
  // removes it from the list.
  const reviewer = await signIn('totruong', { width: 390, height: 844 });
  await reviewer.page.goto(`${base}/hamlets/${HAMLET}`);
  assert.match(await text(reviewer.page, '#awaiting-review'), /^1 hộ mới thêm cần xem lại/);
  await reviewer.page.click('#awaiting-review a');
  await reviewer.page.waitForSelector('#review');
  await reviewer.page.click('#review label:has-text("Nhà mới, hẻm 9")');
  await reviewer.page.screenshot({ path: `${shots}/review.png`, fullPage: true });
  await reviewer.page.click('#review button[value=retire]');
  await reviewer.page.waitForSelector('.notice');
  assert.match(await text(reviewer.page, '.notice'), /Đã bỏ các hộ đã chọn khỏi danh sách/);
  assert.equal(await reviewer.page.locator('#review-empty').count(), 1);
  await reviewer.context.close();

  // The leader sees the new device, synced, and revokes it.
  const leader = await signIn('totruong');
  await leader.page.goto(`${base}/devices`);
  const device = leader.page.locator('#devices tbody tr', { hasText: 'Lâm Thị Chín' });
  assert.equal(await device.count(), 1, 'the new member’s device is listed');
  let asked = '';
  leader.page.once('dialog', (d) => { asked = d.message(); d.accept(); });
  await device.locator('button:has-text("Thu hồi")').click();
  await leader.page.waitForSelector('.notice');
  assert.match(await leader.page.locator('#devices tbody tr', { hasText: 'Lâm Thị Chín' }).innerText(), /Đã thu hồi/);
  assert.match(asked, /Thu hồi thiết bị này\?/, 'the leader was asked first (the inline handler was blocked by the CSP)');
  await leader.context.close();
  return { ok: true };
}

async function province(expected) {
  const shots = expected.screenshots;
  const { context, page } = await signIn('canbotinh');
  assert.match(page.url(), /\/provinces\/t-thu$/, 'the province officer lands on the province');
  const rows = page.locator('#communes tbody tr');
  assert.equal(await rows.count(), 1, 'one commune in the province');
  assert.equal(await text(page, '[data-total="covered"] .figure'), String(expected.covered));
  await page.screenshot({ path: `${shots}/province.png`, fullPage: true });
  // Sorted by coverage, then filtered to 80 % or more: the commune is below it.
  await Promise.all([page.waitForLoadState('load'), page.click('#communes thead a:has-text("Bao phủ")')]);
  assert.match(page.url(), /sort=coverage/);
  await page.selectOption('select[name="band"]', 'high');
  await Promise.all([page.waitForLoadState('load'), page.click('form.filters button[type=submit]')]);
  assert.match(page.url(), /band=high/);
  assert.equal(await page.locator('#communes tbody tr').count(), 0, 'no commune at 80 % or more');
  await page.selectOption('select[name="band"]', '');
  await Promise.all([page.waitForLoadState('load'), page.click('form.filters button[type=submit]')]);
  // The commune opens read-only: figures, no exports, no way into its households.
  await Promise.all([page.waitForLoadState('load'), page.click('#communes tbody a')]);
  assert.match(page.url(), /\/communes\/p-test$/);
  assert.equal(await page.locator('#figures-only').count(), 1);
  assert.equal(await page.locator('a[href^="/hamlets/"]').count(), 0, 'no link into a hamlet');
  assert.equal(await page.locator('text=Xuất Excel').count(), 0, 'no commune export');
  // Back on the province, the report downloads.
  await page.goto(`${base}/provinces/t-thu`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Xuất Excel')]);
  assert.match(download.suggestedFilename(), /^tungnha-t-thu-.*\.xlsx$/);
  await download.saveAs(expected.xlsx);

  await dayReport(context, page, `${shots}/day-report-province.png`);
  // On a phone, the page still fits its width.
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(`${base}/provinces/t-thu`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the province page fits a phone (${overflow}px too wide)`);
  await phone.screenshot({ path: `${shots}/province-phone.png`, fullPage: true });
  await context.close();
  return { ok: true };
}

try {
  const out =
    phase === 'setup' ? await setup() : phase === 'province' ? await province(JSON.parse(arg)) : await check(JSON.parse(arg));
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
}
