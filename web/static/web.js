// The website's one script, a progressive enhancement (every page works without it;
// the Content-Security-Policy allows scripts from this server only, never inline):
// - a form marked data-confirm asks before it is sent (revoking a device);
// - a table marked data-filter-from="#input" filters its rows as one types in that
//   input, without diacritics, on each row's data-search (a hamlet's households);
// - a button marked data-copy="#field" copies that field's text (the day's report);
// - a file input marked data-fills="#field" puts the chosen file's text into that
//   field (a CSV of monthly dossier statistics; pasting works without it).

const fold = (text) => (text ?? '').normalize('NFD').replace(/\p{M}/gu, '').replace(/[đĐ]/g, 'd').toLowerCase();

for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

for (const table of document.querySelectorAll('table[data-filter-from]')) {
  const input = document.querySelector(table.dataset.filterFrom);
  const count = document.querySelector(table.dataset.filterCount ?? '#none');
  if (!input) continue;
  const rows = [...table.querySelectorAll('tbody tr[data-search]')];
  input.addEventListener('input', () => {
    const query = fold(input.value.trim());
    let shown = 0;
    for (const row of rows) {
      const match = !query || row.dataset.search.includes(query);
      row.hidden = !match;
      if (match) shown++;
    }
    if (count) count.textContent = String(shown);
  });
}

for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.querySelector(button.dataset.copy);
    if (!field) return;
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      // Without the clipboard API (an insecure origin), the selected text is copied the old way.
      document.execCommand('copy');
    }
    button.textContent = button.dataset.copied;
  });
}

for (const input of document.querySelectorAll('input[type=file][data-fills]')) {
  input.addEventListener('change', async () => {
    const field = document.querySelector(input.dataset.fills);
    const file = input.files?.[0];
    if (field && file) field.value = await file.text();
  });
}
