// End-to-end tests of the web app: a real `mpos demo` node, Debian's Chromium driven by
// Playwright. Screenshots of every screen a test passes through go to target/e2e/.
//
//   MPOS_BIN=path/to/mpos node e2e/run.mjs [name filter]

import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { tests } from "./tests.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = resolve(here, "../..");
const bin = process.env.MPOS_BIN ?? join(root, "target/debug/mpos");
const shots = join(root, "target/e2e");
mkdirSync(shots, { recursive: true });

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** A fresh demo node on its own port and data directory. */
async function startNode() {
  const data = mkdtempSync(join(tmpdir(), "mpos-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(bin, ["demo", "--data", join(data, "node"), "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mpos demo exited:\n${log}`);
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`mpos demo did not come up:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const session = join(data, "cli-session.json");
  return {
    base,
    /** Runs the `mpos` client against this node, as a person at a terminal would. */
    cli(...args) {
      return execFileSync(bin, [...args, "--target", `127.0.0.1:${port}`], {
        env: { ...process.env, MPOS_SESSION: session },
        encoding: "utf8",
      });
    },
    stop() {
      child.kill("SIGTERM");
      rmSync(data, { recursive: true, force: true });
    },
  };
}

const filter = process.argv[2] ?? "";

/** Debian's Chromium with a fresh profile, in the flags this machine needs. */
function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "mpos-chromium-")), {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

let failed = 0;
for (const [name, test] of Object.entries(tests)) {
  if (!name.includes(filter)) continue;
  const node = await startNode();
  const context = await launch();
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  let step = 0;
  const shot = async (what) => {
    step += 1;
    await page.screenshot({ path: join(shots, `${name}-${String(step).padStart(2, "0")}-${what}.png`) });
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
