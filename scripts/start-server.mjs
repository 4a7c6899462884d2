/**
 * Start and stop `wrangler dev` from scripts and tests (the e2e harness and `npm run bench` share it).
 *
 * Each server runs in its own process group (detached), so stopping signals the whole group: npm (or
 * wrangler), wrangler and its workerd processes. Killing only the top process would orphan workerd
 * with the port still bound. Output goes to a log file, never to
 * the caller's terminal, and readiness is an HTTP 200 on `readyPath`.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:net";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Quiet, offline wrangler (no telemetry, update check, banner or Request.cf download). */
export function quietEnv(extra = {}) {
  // node_modules/.bin first: wrangler needs the Node 22 of the `node` devDependency (README "Two commands").
  const bin = join(PROJECT_ROOT, "node_modules", ".bin");
  return {
    ...process.env,
    PATH: `${bin}${delimiter}${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_HIDE_BANNER: "true",
    WRANGLER_WRITE_LOGS: "false",
    NO_UPDATE_NOTIFIER: "1",
    ...extra,
  };
}

/** A TCP port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** `taskset -c <cpus>` prefix when taskset exists and cpus is set; [] otherwise. */
export function pinPrefix(cpus) {
  if (cpus === undefined || cpus === null || cpus === "") return [];
  return spawnSync("taskset", ["--version"], { stdio: "ignore" }).status === 0 ? ["taskset", "-c", String(cpus)] : [];
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Signal the process group `pid` leads: SIGTERM, then SIGKILL if it is still there after `graceMs`.
 * Resolves once no process of the group is left (so the port is free for a restart).
 */
export async function stopProcessGroup(pid, graceMs = 5000) {
  if (!pid || !groupAlive(pid)) return;
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(50);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {}
    while (groupAlive(pid)) await sleep(50);
  }
}

function appendLog(fd, line) {
  writeSync(fd, `\n[start-server ${new Date().toISOString()}] ${line}\n`);
}

/** Run a one-shot command (e.g. `wrangler d1 execute`) to completion, output into the log. */
function runStep(argv, { cwd, env, logFd }) {
  appendLog(logFd, `$ ${argv.join(" ")}`);
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env, stdio: ["ignore", logFd, logFd] });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited with ${r.status ?? r.signal}`);
}

async function tail(file, lines = 40) {
  try {
    return (await readFile(file, "utf8")).split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Start a long-running server command and wait until `http://127.0.0.1:<port><readyPath>` answers 200.
 *
 * @param {object} o
 * @param {string[]} o.command   argv of the server, e.g. ["npm", "run", "dev", "--", "--port", "8790"]
 * @param {number} o.port        the port the command listens on (127.0.0.1)
 * @param {string} o.logFile     where stdout and stderr go (appended, so restarts keep one history)
 * @param {string[][]} [o.before] one-shot commands run first (e.g. local D1 setup), same env and log
 * @param {string} [o.readyPath] path polled until it answers 200 (default "/")
 * @param {number} [o.timeoutMs] readiness deadline (default 90 s: wrangler's first bundle can be slow)
 * @param {string} [o.cpus]      pin the server to these cores with taskset (e.g. "0")
 * @param {string} [o.cwd]       working directory (default: the project root)
 * @returns {Promise<{ pid: number, port: number, url: string, logFile: string, stop: () => Promise<void> }>}
 */
export async function startServer(o) {
  const cwd = o.cwd ?? PROJECT_ROOT;
  const env = quietEnv();
  const url = `http://127.0.0.1:${o.port}`;
  mkdirSync(dirname(o.logFile), { recursive: true });
  const logFd = openSync(o.logFile, "a");
  try {
    for (const step of o.before ?? []) runStep(step, { cwd, env, logFd });
    const argv = [...pinPrefix(o.cpus), ...o.command];
    appendLog(logFd, `$ ${argv.join(" ")}`);
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ["ignore", logFd, logFd] });
    child.unref();
    const pid = child.pid;
    let exited = null;
    child.on("exit", (code, signal) => {
      exited = code ?? signal;
    });
    const stop = () => stopProcessGroup(pid);
    const deadline = Date.now() + (o.timeoutMs ?? 90_000);
    const readyUrl = `${url}${o.readyPath ?? "/"}`;
    for (;;) {
      if (exited !== null) {
        throw new Error(`server exited (${exited}) before it was ready; log ${o.logFile}:\n${await tail(o.logFile)}`);
      }
      try {
        const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.status === 200) return { pid, port: o.port, url, logFile: o.logFile, stop };
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(
          `${readyUrl} not ready after ${o.timeoutMs ?? 90_000} ms; log ${o.logFile}:\n${await tail(o.logFile)}`,
        );
      }
      await sleep(200);
    }
  } finally {
    closeSync(logFd);
  }
}

/**
 * The edge-oidc worker exactly as a developer runs it (`npm run dev`: migrations, Demo seed, then
 * `wrangler dev --var DEV_SIGNIN:true`) on 127.0.0.1:<port>, state under `persistTo`, with the issuer
 * set to the URL it is really served on and any extra `vars` (e.g. ADMIN_API_TOKEN).
 *
 * @param {{ port: number, persistTo: string, logFile: string, vars?: Record<string, string>, args?: string[], cpus?: string, timeoutMs?: number }} o
 *   `args`: more `wrangler dev` arguments (e.g. ["--log-level", "warn"]).
 */
export function startEdgeOidc(o) {
  const vars = { ISSUER: `http://127.0.0.1:${o.port}`, ...o.vars };
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  return startServer({
    command: ["npm", "run", "dev", "--", "--ip", "127.0.0.1", "--port", String(o.port), "--persist-to", o.persistTo]
      .concat(varArgs)
      .concat(o.args ?? []),
    port: o.port,
    logFile: o.logFile,
    readyPath: "/.well-known/openid-configuration",
    cpus: o.cpus,
    timeoutMs: o.timeoutMs,
  });
}
