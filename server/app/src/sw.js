// The service worker: keeps the app shell (HTML, JS, CSS, wasm, icon) in a cache named
// by the assets' version, so the app opens with no network. The server prepends
// `const VERSION = "…"; const ASSETS = [...];` when it serves this file.

const CACHE = `tungnha-app-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('tungnha-app-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== location.origin) return;
  // The API is never cached: sync must reach the server or fail.
  if (url.pathname.startsWith('/api/')) return;
  // Any page of the app (the enrolment link included) is the one shell.
  const key = url.pathname === '/app' || url.pathname === '/app/' || url.pathname === '/app/enrol' ? '/app/' : url.pathname;
  event.respondWith(caches.open(CACHE).then((c) => c.match(key)).then((hit) => hit || fetch(event.request)));
});
