/* bihuan service worker: opens the pages offline, never keeps other people's data.
 *
 * What is cached, and why (README "Offline drafts"):
 * - the app shell (CSS, scripts, icons, the offline page): the same for every user;
 * - pages the signed-in user opened (HTML of GET navigations), so a form page opens without a
 *   signal and a report can be drafted. This cache is deleted when a page is shown to a
 *   signed-out visitor (after logout or a session timeout), so the next user of the phone
 *   never sees the last one's pages.
 * Never cached: API calls, any POST, photos and downloads (they go straight to the network;
 * photos carry their own HTTP cache headers and logout clears the HTTP cache with
 * Clear-Site-Data). Drafts themselves live in IndexedDB (offline.js), not here.
 */
const VERSION = "__VERSION__";
const SHELL = "bihuan-shell-" + VERSION;
const PAGES = "bihuan-pages";
const SHELL_URLS = __SHELL_URLS__;
const OFFLINE_URL = "/offline";
// Pages never stored: signing in and out, and anything that is not a plain page.
const NOT_PAGES = [/^\/login/, /^\/logout/, /^\/api\//, /^\/media\//, /^\/static\//, /^\/photos\//,
  /\/dossier/, /ledger/, /\.(xlsx|csv|pdf)$/];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_URLS))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((n) => n.startsWith("bihuan-shell-") && n !== SHELL)
      .map((n) => caches.delete(n)))).then(() => self.clients.claim()));
});

self.addEventListener("message", (event) => {
  if (event.data === "signed-out") event.waitUntil(caches.delete(PAGES));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // POSTs go to the network, untouched
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL_URLS.includes(url.pathname) || url.pathname.startsWith("/static/")) {
    event.respondWith(shellFirst(request));
  } else if (request.mode === "navigate" && !NOT_PAGES.some((re) => re.test(url.pathname))) {
    event.respondWith(networkFirst(request));
  }
  // Everything else (API, photos, exports): the browser's own handling.
});

async function shellFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL });
  if (cached) return cached;
  const response = await fetch(request);
  // The vendored chart library is large and only used on the board: kept once fetched.
  if (response.ok && new URL(request.url).pathname.startsWith("/static/")) {
    const copy = response.clone();
    caches.open(SHELL).then((cache) => cache.put(request, copy));
  }
  return response;
}

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    // Pages answer no-store (kept out of the HTTP cache and the back-forward cache); this
    // cache is the worker's own, and it is emptied at sign-out. A page that redirected (to
    // the login page) or failed is not kept.
    const type = response.headers.get("Content-Type") || "";
    if (response.ok && !response.redirected && type.startsWith("text/html")) {
      const copy = response.clone();
      caches.open(PAGES).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request, { cacheName: PAGES });
    return cached || (await caches.match(OFFLINE_URL, { cacheName: SHELL })) || Response.error();
  }
}
