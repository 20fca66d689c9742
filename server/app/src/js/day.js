// The volunteer's own day, as the web's "Báo cáo hôm nay" tells a team's or a
// commune's (tungnha-web's day_report.rs): the same lines as text to post in the
// team's Zalo group, and the same card, drawn here on a canvas because the phone is
// often offline. Computed from the logs the phone holds: the volunteer's own visits
// that day and to its end, and the coverage of their hamlets to its end.

import { vnDay } from './rules.js';

/** The figures of `user`'s day `day` ("YYYY-MM-DD", Asia/Ho_Chi_Minh) in `replica`'s logs. */
export function myDay(replica, user, day) {
  const out = {
    day, visits: 0, guided: 0, people: 0, filed: 0, covered: 0, accounts: {}, coveredToDate: 0, households: 0, accountsToDate: 0, filedToDate: 0,
    walkins: { count: 0, people: 0, accounts: 0, filed: 0 },
  };
  for (const { id } of replica.hamlets()) {
    // At a counter: the volunteer's walk-ins that day, their own line.
    for (const w of replica.isCounter(id) ? replica.walkins(id) : []) {
      if (w.voided || w.by !== user || vnDay(w.at) !== day) continue;
      out.walkins.count++;
      out.walkins.people += w.people;
      out.walkins.filed += w.filed;
      out.walkins.accounts += Object.values(w.accounts).reduce((a, n) => a + Number(n), 0);
    }
    for (const h of replica.households(id)) {
      out.households++;
      const live = h.visits.filter((v) => !v.voided);
      // The household's first covering visit decides when it was covered, and by whom.
      const first = live.filter((v) => v.outcome === 'guided' || v.outcome === 'already_done')
        .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1))[0];
      if (first && vnDay(first.at) <= day) out.coveredToDate++;
      if (first && first.by === user && vnDay(first.at) === day) out.covered++;
      for (const v of live.filter((x) => x.by === user)) {
        const d = vnDay(v.at);
        const accounts = Object.entries(v.accounts).map(([k, n]) => [k, Number(n)]);
        if (d <= day) {
          out.accountsToDate += accounts.reduce((a, [, n]) => a + n, 0);
          out.filedToDate += v.filed;
        }
        if (d !== day) continue;
        out.visits++;
        if (v.outcome === 'guided') out.guided++;
        out.people += v.people;
        out.filed += v.filed;
        for (const [k, n] of accounts) out.accounts[k] = (out.accounts[k] ?? 0) + n;
      }
    }
  }
  return out;
}

const int = (lang, n) => n.toLocaleString(lang === 'en' ? 'en-US' : 'de-DE');
const percent = (lang, ratio) => {
  const p = (ratio * 100).toFixed(1);
  return `${lang === 'en' ? p : p.replace('.', ',')}%`;
};
const dayShown = (d) => d.split('-').reverse().join('/');

/** The report's parts: heading, whose, lines, and the running totals. `kinds` is the
 *  catalogue's account kinds [{code, label}] (their order is the report's). */
export function reportParts(day, name, kinds, t, lang) {
  const order = (code) => { const i = kinds.findIndex((k) => k.code === code); return i < 0 ? kinds.length : i; };
  const label = (code) => kinds.find((k) => k.code === code)?.label ?? code;
  const byKind = Object.entries(day.accounts).filter(([, n]) => n > 0).sort(([a], [b]) => order(a) - order(b) || (a < b ? -1 : 1));
  const total = byKind.reduce((a, [, n]) => a + n, 0);
  let accounts = `${t('dr_accounts')}: ${int(lang, total)}`;
  if (byKind.length) accounts += ` (${byKind.map(([k, n]) => `${label(k)}: ${int(lang, n)}`).join(', ')})`;
  const ratio = day.households ? day.coveredToDate / day.households : 0;
  return {
    heading: `${t('dr_report_of').toUpperCase()} ${dayShown(day.day)}`,
    whose: name,
    lines: [
      `${t('dr_visits')}: ${int(lang, day.visits)} (${t('dr_guided')}: ${int(lang, day.guided)})`,
      `${t('people')}: ${int(lang, day.people)}`,
      accounts,
      `${t('filed')}: ${int(lang, day.filed)}`,
      `${t('dr_covered')}: ${int(lang, day.covered)}`,
      ...(day.walkins.count ? [`${t('dr_walkins')}: ${int(lang, day.walkins.count)} ${t('dr_times')}, ${int(lang, day.walkins.people)} ${t('dr_persons')}, `
        + `${int(lang, day.walkins.accounts)} ${t('dr_accounts_short')}, ${int(lang, day.walkins.filed)} ${t('dr_filed_short')}`] : []),
    ],
    toDate: `${t('dr_to_date')}: ${t('dr_coverage')} ${int(lang, day.coveredToDate)}/${int(lang, day.households)} ${t('dr_households')} (${percent(lang, ratio)}), `
      + `${int(lang, day.accountsToDate)} ${t('dr_accounts_short')}, ${int(lang, day.filedToDate)} ${t('dr_filed_short')}.`,
    ratio,
  };
}

/** The report as text, in the shape people post in Zalo groups. */
export function reportText(parts) {
  return [parts.heading, parts.whose, ...parts.lines.map((l) => `- ${l}`), parts.toDate].join('\n');
}

/** Breaks `text` into lines no wider than `width` on `ctx`'s font. */
function wrap(ctx, text, width) {
  const lines = [];
  let line = '';
  for (const word of text.split(' ')) {
    const tried = line ? `${line} ${word}` : word;
    if (line && ctx.measureText(tried).width > width) {
      lines.push(line);
      line = word;
    } else line = tried;
  }
  if (line) lines.push(line);
  return lines;
}

/** Draws the card on `canvas` (1080 pixels wide, like the server's). */
export function drawCard(canvas, parts, appName, motto) {
  const scale = 2;
  const W = 540;
  const font = (size, bold) => `${bold ? 'bold ' : ''}${size}px "Noto Sans", "Roboto", sans-serif`;
  // Measure first on the canvas itself, then size it and draw.
  let ctx = canvas.getContext('2d');
  const rows = [];
  let y = 112;
  const put = (x, text, size, bold) => { y += size + 12; rows.push({ x, y, text, size, bold }); };
  ctx.font = font(26, true);
  for (const part of wrap(ctx, parts.whose, W - 80)) put(40, part, 26, true);
  ctx.font = font(22, false);
  for (const line of parts.lines) {
    wrap(ctx, `• ${line}`, W - 80).forEach((part, i) => put(i ? 58 : 40, part, 22, false));
  }
  const barY = y + 28;
  y = barY + 14;
  ctx.font = font(20, false);
  const totals = wrap(ctx, parts.toDate, W - 80).map((part) => { y += 32; return { y, part }; });
  const H = y + 60;
  canvas.width = W * scale;
  canvas.height = H * scale;
  ctx = canvas.getContext('2d');
  ctx.scale(scale, scale);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, W, H);
  ctx.fillStyle = '#0b5cad';
  ctx.fillRect(0, 0, W, 96);
  ctx.fillStyle = '#dbe9ff';
  ctx.font = font(18, false);
  ctx.fillText(appName, 40, 44);
  ctx.fillStyle = '#ffffff';
  ctx.font = font(26, true);
  ctx.fillText(parts.heading, 40, 78);
  ctx.fillStyle = '#1b1b1b';
  for (const r of rows) {
    ctx.font = font(r.size, r.bold);
    ctx.fillText(r.text, r.x, r.y);
  }
  const bar = (width, color) => {
    ctx.fillStyle = color;
    ctx.beginPath();
    ctx.roundRect(40, barY, Math.max(width, 0), 14, 7);
    ctx.fill();
  };
  bar(W - 80, '#e3e8ef');
  if (parts.ratio > 0) bar((W - 80) * Math.min(parts.ratio, 1), '#1e8e3e');
  ctx.fillStyle = '#1b1b1b';
  ctx.font = font(20, false);
  for (const { y: ty, part } of totals) ctx.fillText(part, 40, ty);
  ctx.fillStyle = '#5f6b7a';
  ctx.font = font(16, false);
  ctx.fillText(motto, 40, H - 24);
}

/** Shares the report: the phone's share sheet with the text and the card (Zalo is
 *  there), or the text alone, or the clipboard. Resolves to how it went: 'shared',
 *  'copied', or 'cancelled'. */
export async function share(text, canvas, fileName) {
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
  const files = blob ? [new File([blob], fileName, { type: 'image/png' })] : [];
  try {
    if (files.length && navigator.canShare?.({ text, files })) {
      await navigator.share({ text, files });
      return 'shared';
    }
    if (navigator.share) {
      await navigator.share({ text });
      return 'shared';
    }
  } catch (err) {
    if (err?.name === 'AbortError') return 'cancelled';
    // A share sheet that failed for another reason: fall back to copying.
  }
  await copy(text);
  return 'copied';
}

/** Copies text: the clipboard API, or the old way through a selected field. */
export async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const field = document.createElement('textarea');
    field.value = text;
    document.body.append(field);
    field.select();
    document.execCommand('copy');
    field.remove();
  }
}
