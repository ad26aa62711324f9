// The app's service worker: the register, kitchen display and menus open even when the
// node cannot be reached (the app then says so and retries), and load from the device.
// Only the app's own files are kept; API calls (gRPC-Web POSTs) always go to the node.

const CACHE = "mpos-app-v1";
const SHELL = ["/", "/manifest.webmanifest", "/icon.svg", "/icon-192.png"];

/** The built files the entry page names (hashed, so they never change). */
function assetsOf(html) {
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

/** Keeps `page` (the entry page) and the files it names, fetching only new ones. */
async function keep(page) {
  const cache = await caches.open(CACHE);
  const html = await page.clone().text();
  if (!html.includes('id="app"')) return;
  await cache.put("/", page);
  const wanted = new Set([...SHELL, ...assetsOf(html)]);
  for (const url of wanted) {
    if (url !== "/" && !(await cache.match(url))) await cache.add(url);
  }
  // Files of older builds go.
  for (const req of await cache.keys()) {
    if (!wanted.has(new URL(req.url).pathname)) await cache.delete(req);
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    fetch("/", { cache: "no-cache" })
      .then(keep)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== location.origin) return;
  if (req.mode === "navigate") {
    // Every page of the app is the entry page: the node's newest when it answers, the
    // kept one when it does not.
    event.respondWith(
      (async () => {
        try {
          const fresh = await fetch(req);
          // Only the app's entry page is kept as one (not /healthz or /metrics).
          const html = fresh.headers.get("content-type")?.startsWith("text/html");
          if (fresh.ok && html) event.waitUntil(keep(fresh.clone()).catch(() => {}));
          return fresh;
        } catch {
          return (await caches.match("/")) ?? Response.error();
        }
      })(),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/") || SHELL.includes(url.pathname)) {
    event.respondWith(
      (async () => {
        const kept = await caches.match(req);
        if (kept) return kept;
        const fresh = await fetch(req);
        if (fresh.ok) (await caches.open(CACHE)).put(req, fresh.clone());
        return fresh;
      })(),
    );
  }
});
