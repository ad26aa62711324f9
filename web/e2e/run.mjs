// End-to-end tests of the web app: a real `mpos demo` node, Debian's Chromium driven by
// Playwright. Screenshots of every screen a test passes through go to target/e2e/.
//
//   MPOS_BIN=path/to/mpos node e2e/run.mjs [name filter]

import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { launch, root, startNode } from "./harness.mjs";
import { nodeOptions, tests } from "./tests.mjs";

const bin = process.env.MPOS_BIN ?? join(root, "target/debug/mpos");
const shots = join(root, "target/e2e");
mkdirSync(shots, { recursive: true });

const filter = process.argv[2] ?? "";

let failed = 0;
for (const [name, test] of Object.entries(tests)) {
  if (!name.includes(filter)) continue;
  // Screenshots of an earlier run would pass for this one's.
  for (const f of readdirSync(shots)) if (f.startsWith(`${name}-`)) rmSync(join(shots, f));
  const node = await startNode(bin, nodeOptions[name]);
  const context = await launch();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  context.on("page", (p) => p.on("pageerror", (e) => errors.push(e.message)));
  page.on("pageerror", (e) => errors.push(e.message));
  let step = 0;
  const shot = async (what) => {
    await page.screenshot({ path: shot.path(what) });
  };
  // The next screenshot's file, for a test's other pages (a guest's phone, the kitchen).
  shot.path = (what) => {
    step += 1;
    return join(shots, `${name}-${String(step).padStart(2, "0")}-${what}.png`);
  };
  const started = Date.now();
  try {
    await test({ page, node, shot });
    if (errors.length) throw new Error(`errors in the page: ${errors.join("; ")}`);
    console.log(`PASS ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed += 1;
    await shot("failure").catch(() => {});
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
  } finally {
    await context.close();
    node.stop();
  }
}
if (failed) {
  console.log(`${failed} end-to-end test(s) failed; screenshots in ${shots}`);
  process.exit(1);
}
