#!/usr/bin/env node
// The dashboard's first load: the JS and CSS that assets/dashboard/index.html loads (its
// stylesheets and module scripts, and the chunks those import statically), each gzipped at
// level 9 as a CDN would send it. Lazy chunks (the chart, loaded by a link's page) and the
// OpenAPI page are listed apart: they are not part of the list page's first load.
// `node bench/dashboard.mjs` prints the figures; `--check` also fails above the budget.
import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

export const BUDGET_BYTES = 100 * 1024;
const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "..");
const DIR = path.join(ROOT, "assets", "dashboard");

const gz = (file) => gzipSync(fs.readFileSync(file), { level: 9 }).length;

/// The files a first load of index.html fetches, in the order found.
export function firstLoadFiles(dir = DIR) {
  const html = fs.readFileSync(path.join(dir, "index.html"), "utf8");
  const refs = [
    ...[...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g)].map((m) => m[1]),
    ...[...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((m) => m[1]),
  ];
  const seen = new Set();
  const visit = (rel, from) => {
    const file = path.resolve(from, rel);
    if (seen.has(file)) return;
    seen.add(file);
    if (file.endsWith(".js")) {
      const js = fs.readFileSync(file, "utf8");
      // Static imports only: `import{…}from"./x.js"` or `import"./x.js"`; `import("…")` is lazy.
      for (const m of js.matchAll(/(?:^|[;\s}])import\s*(?:[\w$*{}\s,]+?from\s*)?["']([^"']+)["']/g)) visit(m[1], path.dirname(file));
    }
  };
  for (const r of refs) visit(r, dir);
  return [...seen];
}

export function measure(dir = DIR) {
  const first = firstLoadFiles(dir).map((f) => ({ file: path.relative(dir, f), gzip: gz(f) }));
  const all = fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, f)).filter((f) => /\.(js|css)$/.test(f));
  const firstSet = new Set(first.map((f) => path.join(dir, f.file)));
  const lazy = all.filter((f) => !firstSet.has(f)).map((f) => ({ file: path.relative(dir, f), gzip: gz(f) }));
  return { first, firstTotal: first.reduce((a, f) => a + f.gzip, 0), lazy };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!fs.existsSync(path.join(DIR, "index.html"))) {
    console.error("assets/dashboard/index.html is missing: run `make build` first");
    process.exit(1);
  }
  const m = measure();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log("Dashboard, list page first load (gzip -9 of the JS and CSS index.html loads):");
  for (const f of m.first) console.log(`  ${f.file.padEnd(40)} ${kb(f.gzip).padStart(9)}`);
  console.log(`  ${"total".padEnd(40)} ${kb(m.firstTotal).padStart(9)}  (${m.firstTotal} bytes; budget ${kb(BUDGET_BYTES)})`);
  console.log("Loaded later (not in the first load):");
  for (const f of m.lazy) console.log(`  ${f.file.padEnd(40)} ${kb(f.gzip).padStart(9)}`);
  if (process.argv.includes("--check") && m.firstTotal > BUDGET_BYTES) {
    console.error(`over budget: ${m.firstTotal} > ${BUDGET_BYTES} bytes`);
    process.exit(1);
  }
}
