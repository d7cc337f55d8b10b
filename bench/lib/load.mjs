// Load generation from a separate process, on loopback: wrk (Debian package) for throughput and
// the API, oha (crates.io) for the latency of each request.
import { execFileSync, execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
import fs from "node:fs";
import path from "node:path";

export function ensureWrk() {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
  } catch (e) {
    if (e.code !== "ENOENT" && e.status === undefined) throw e;
    // `wrk --version` exits 1 after printing its version; only a missing binary is ENOENT.
    if (e.code === "ENOENT") {
      console.log("wrk not found: installing it from Debian's packages (apt-get install wrk)");
      const sudo = process.getuid() === 0 ? [] : ["sudo"];
      const run = (args) =>
        execFileSync(sudo.length ? "sudo" : args[0], sudo.length ? args : args.slice(1), {
          stdio: "inherit",
        });
      try {
        run(["apt-get", "install", "-y", "wrk"]);
      } catch {
        run(["apt-get", "update"]);
        run(["apt-get", "install", "-y", "wrk"]);
      }
    }
  }
  return execFileSync("bash", ["-c", "wrk --version 2>&1 | head -1 || true"]).toString().trim();
}

// Lua that reports exact percentiles (wrk's own --latency table rounds and omits p99.9),
// and the status-code mix, as one JSON line.
const REPORT_LUA = `
statuses = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  local k = "s" .. status
  statuses[k] = (statuses[k] or 0) + 1
end
function done(summary, latency, requests)
  local s = {}
  for _, t in ipairs(threads) do
    local st = t:get("statuses")
    if st then for k, v in pairs(st) do s[#s + 1] = string.format('"%s":%d', string.sub(k, 2), v) end end
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"non2xx3xx":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"statuses":{%s}}\\n',
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(s, ",")))
end
`;

/**
 * Runs wrk against `url` for `seconds` with `connections`, one thread (the other core is
 * workerd's). `lua` is an optional script defining `request()` (and/or `init`), prepended to the
 * reporting code; it must not define `response`/`done`/`setup`.
 * Returns { rps, p50, p90, p99, max (ms), requests, errors, statuses }.
 * Asynchronous on purpose: miniflare's Node side (it relays workerd's stdout/stderr) must keep
 * running while wrk does.
 */
export async function wrk(url, { seconds = 4, connections = 16, lua = "", scratch = "/tmp", timeout = "5s" } = {}) {
  const script = path.join(scratch, `wrk-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
  // Per-thread status table is read back in done() through thread:get("statuses").
  fs.writeFileSync(script, `${lua}\n${REPORT_LUA}`);
  try {
    const { stdout: out } = await execFileAsync(
      "wrk",
      ["-t1", `-c${connections}`, `-d${seconds}s`, `--timeout`, timeout, "-s", script, url],
      { maxBuffer: 16 << 20 },
    );
    const line = out.split("\n").find((l) => l.startsWith("WRKJSON "));
    if (!line) throw new Error(`wrk printed no summary:\n${out}`);
    const j = JSON.parse(line.slice(8));
    return {
      rps: j.requests / (j.duration_us / 1e6),
      p50: j.p50_us / 1000,
      p90: j.p90_us / 1000,
      p99: j.p99_us / 1000,
      max: j.max_us / 1000,
      requests: j.requests,
      errors: j.errors,
      statuses: j.statuses,
    };
  } finally {
    fs.rmSync(script, { force: true });
  }
}

// oha (crates.io; `make bench` installs it), for latency as each request saw it. wrk's percentiles
// are corrected for coordinated omission: after a run, wrk adds to every recorded latency L above
// twice the mean interval between a connection's requests, e the interval, the latencies L − e,
// L − 2e, … that requests sent on schedule would have seen (`stats_correct` in wrk's stats.c). Under
// a closed loop that saturates one workerd thread, a single 50 ms pause of the process (the
// ceiling has them too) becomes hundreds of synthetic samples, so wrk's p99 says how often and how
// long the runtime pauses, the same for every contender, not what a request of one of them costs.
// oha's percentiles are of the requests as measured; it runs pinned to one CPU (`taskset`), so its
// runtime has one thread, like `wrk -t1`.
let ohaFound;
export const haveOha = () => (ohaFound ??= installed("oha"));

// Whether `command --version` runs (the harness's optional tools).
export function installed(command) {
  try {
    execFileSync(command, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs oha against `url` for `seconds` with `connections` (keep-alive, redirects not followed,
 * the requests under way at the end waited for).
 * Returns { rps, p50, p90, p99, p999, max (ms), requests, errors, statuses }.
 */
export async function oha(url, { seconds = 3, connections = 16, cpu = 1 } = {}) {
  const { stdout } = await execFileAsync(
    "taskset",
    ["-c", String(cpu), "oha", "-z", `${seconds}s`, "-w", "-c", String(connections), "-r", "0", "--no-tui", "--output-format", "json", url],
    { maxBuffer: 64 << 20 },
  );
  const j = JSON.parse(stdout);
  const ms = (s) => (s == null ? NaN : s * 1000);
  const p = j.latencyPercentiles;
  const statuses = j.statusCodeDistribution ?? {};
  const errors = Object.values(j.errorDistribution ?? {}).reduce((a, b) => a + b, 0);
  return {
    rps: j.summary.requestsPerSec,
    p50: ms(p.p50),
    p90: ms(p.p90),
    p99: ms(p.p99),
    p999: ms(p["p99.9"]),
    max: ms(j.summary.slowest),
    requests: Object.values(statuses).reduce((a, b) => a + b, 0),
    errors,
    statuses,
  };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

