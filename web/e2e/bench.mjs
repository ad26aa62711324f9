// The web app's figures (docs/PERFORMANCE.md), measured in Debian's Chromium against a
// real demo node: JavaScript shipped (gzipped), the register's first load on a cold
// cache, and tap on a menu item to its line on the ticket (Performance API, in the page).
//
//   MPOS_BIN=target/release/mpos node e2e/bench.mjs [taps]

import { join } from "node:path";
import { launch, root, startNode } from "./harness.mjs";

const bin = process.env.MPOS_BIN ?? join(root, "target/release/mpos");
const taps = Number(process.argv[2] ?? 100);
const node = await startNode(bin);
const base = node.base;

const pct = (xs, p) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

try {
  // JavaScript shipped, as the browser downloads it.
  const page = await (await fetch(base)).text();
  let js = 0;
  for (const src of page.match(/\/assets\/[^"]+\.js/g) ?? []) {
    const r = await fetch(`${base}${src}`, { headers: { "accept-encoding": "gzip" } });
    js += Number(r.headers.get("content-length") ?? (await r.arrayBuffer()).byteLength);
  }
  console.log(`JavaScript shipped, gzipped: ${(js / 1024).toFixed(1)} KiB`);

  // First load on a cold cache: a new profile each time, until the staff list shows.
  const loads = [];
  for (let i = 0; i < 5; i++) {
    const ctx = await launch();
    const p = ctx.pages()[0] ?? (await ctx.newPage());
    await p.goto(base);
    await p.waitForSelector(".staff-card");
    loads.push(await p.evaluate(() => performance.now()));
    await ctx.close();
  }
  console.log(`first load to the staff list (cold cache): median ${pct(loads, 50).toFixed(0)} ms, max ${Math.max(...loads).toFixed(0)} ms`);

  // Tap to line: click an item and wait, in the page, for its line on the ticket.
  const ctx = await launch();
  const p = ctx.pages()[0] ?? (await ctx.newPage());
  await p.goto(base);
  await p.getByRole("button", { name: /Chloé/ }).click();
  await p.keyboard.type("3000");
  await p.keyboard.press("Enter");
  await p.getByRole("button", { name: "Breakfast" }).click();
  await p.getByRole("button", { name: "Croissant" }).waitFor();
  const times = [];
  for (let i = 0; i < taps; i++) {
    times.push(
      await p.evaluate(
        () =>
          new Promise((done) => {
            const lines = () => document.querySelectorAll(".ticket .line").length;
            const before = lines();
            const button = [...document.querySelectorAll(".item")].find((b) =>
              b.textContent?.startsWith("Croissant"),
            );
            const t0 = performance.now();
            const watch = new MutationObserver(() => {
              if (lines() > before) {
                watch.disconnect();
                // The line is in the DOM; wait for the frame that paints it.
                requestAnimationFrame(() => done(performance.now() - t0));
              }
            });
            watch.observe(document.querySelector(".ticket"), { childList: true, subtree: true });
            button.click();
          }),
      ),
    );
  }
  await ctx.close();
  console.log(
    `tap to line on the ticket, ${taps} taps: p50 ${pct(times, 50).toFixed(1)} ms, p95 ${pct(times, 95).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms`,
  );
} finally {
  node.stop();
}
