// What the end-to-end tests and the browser benchmark share: a real `mpos demo` node on
// a free port, and Debian's Chromium with a fresh profile.

import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");

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

/** A fresh demo node on its own port and data directory; `sync`: answering other nodes
 * on a port of its own too (its address is `syncAddress`). */
export async function startNode(bin, { sync = false } = {}) {
  const data = mkdtempSync(join(tmpdir(), "mpos-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const syncAddress = sync ? `127.0.0.1:${await freePort()}` : "";
  const args = ["demo", "--data", join(data, "node"), "--listen", `127.0.0.1:${port}`];
  if (sync) args.push("--sync", syncAddress);
  let child = spawn(bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const up = async (proc) => {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`mpos exited:\n${log}`);
      try {
        const r = await fetch(`${base}/healthz`);
        if (r.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`mpos did not come up:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await up(child);
  const session = join(data, "cli-session.json");
  return {
    base,
    syncAddress,
    data,
    /** Stops the node (SIGTERM); it must exit cleanly. */
    async halt() {
      const stopped = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const late = setTimeout(() => child.kill("SIGKILL"), 30_000);
      const code = await stopped;
      clearTimeout(late);
      if (code !== 0) throw new Error(`mpos did not stop cleanly on SIGTERM (${code}):\n${log}`);
    },
    /** Serves the same data directory again on the same port. */
    async resume() {
      child = spawn(bin, ["serve", "--data", join(data, "node"), "--listen", `127.0.0.1:${port}`], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (d) => (log += d));
      child.stderr.on("data", (d) => (log += d));
      await up(child);
    },
    /** Stops the node and serves it again after `pause` milliseconds. */
    async restart(pause = 0) {
      await this.halt();
      await new Promise((r) => setTimeout(r, pause));
      await this.resume();
    },
    /** Runs `mpos` as it is, for commands that name no node (`pair join`). */
    mpos(...args) {
      return execFileSync(bin, args, { env: { ...process.env, MPOS_SESSION: session }, encoding: "utf8" });
    },
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


/** Debian's Chromium with a fresh profile, in the flags this machine needs. */
export function launch() {
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

