/**
 * The worker under test: `npm run dev` (migrations, Demo seed, `wrangler dev --var DEV_SIGNIN:true`)
 * on 127.0.0.1, exactly as a developer runs it, with a fresh state directory.
 *
 * The suite's shared worker is started by global-setup.ts; tests read it with `sharedWorker()`.
 * A test may restart it (`restartWorker()`: same port, state and vars, so issued tokens must survive)
 * or start a private one with other settings (`startWorker({ vars })`, then `stopWorker(w)`).
 * The current pid of each worker lives in `<dir>/worker.json`, so a restart made in a test process is
 * seen by the global teardown, which stops every worker left in the run directory.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";
import { freePort, PROJECT_ROOT, startEdgeOidc, stopProcessGroup } from "../../../scripts/start-server.mjs";

export interface E2eWorker {
  /** http://127.0.0.1:<port> — also the configured ISSUER. */
  baseUrl: string;
  issuer: string;
  /** ADMIN_API_TOKEN of this worker (Bearer token for the admin JSON API). */
  adminToken: string;
  port: number;
  /** The --persist-to directory (local D1, KV, Durable Objects). */
  persistTo: string;
  /** Every --var passed to wrangler dev (ISSUER and ADMIN_API_TOKEN included). */
  vars: Record<string, string>;
  logFile: string;
  /** Directory of this worker: its state and worker.json (current pid). */
  dir: string;
}

export interface StartWorkerOptions {
  /** Extra or overriding --var settings (e.g. { REFRESH_GRACE_SECONDS: "2" }). */
  vars?: Record<string, string>;
  /** Name used for the directory and the log file (test-results/wrangler-dev-<name>.log). */
  name?: string;
  /** Where worker directories live; defaults to the suite's run directory. */
  runDir?: string;
  port?: number;
}

declare module "vitest" {
  interface ProvidedContext {
    e2e: E2eWorker & { runDir: string };
  }
}

export const RESULTS_DIR = join(PROJECT_ROOT, "test-results");

/** The worker global-setup.ts started for the whole suite. */
export function sharedWorker(): E2eWorker {
  return inject("e2e");
}

/** 40 random characters from the base64url alphabet (config.ts wants at least 32). */
export function randomSecret(length = 40): string {
  return randomBytes(length).toString("base64url").slice(0, length);
}

function recordPid(worker: E2eWorker, pid: number): void {
  writeFileSync(join(worker.dir, "worker.json"), JSON.stringify({ ...worker, pid }, null, 2));
}

function recordedPid(dir: string): number | undefined {
  const file = join(dir, "worker.json");
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, "utf8")) as { pid?: number }).pid;
}

async function launch(worker: E2eWorker): Promise<E2eWorker> {
  const running = await startEdgeOidc({
    port: worker.port,
    persistTo: worker.persistTo,
    logFile: worker.logFile,
    vars: worker.vars,
  });
  recordPid(worker, running.pid);
  return worker;
}

/** Start a worker with a fresh state directory on a free port; resolves once discovery answers 200. */
export async function startWorker(options: StartWorkerOptions = {}): Promise<E2eWorker> {
  const runDir = options.runDir ?? inject("e2e").runDir;
  const port = options.port ?? (await freePort());
  const name = options.name ?? String(port);
  const dir = await mkdtemp(join(runDir, `${name}-`));
  const baseUrl = `http://127.0.0.1:${port}`;
  const vars = { ISSUER: baseUrl, ADMIN_API_TOKEN: randomSecret(), ...options.vars };
  mkdirSync(RESULTS_DIR, { recursive: true });
  return launch({
    baseUrl,
    issuer: vars.ISSUER,
    adminToken: vars.ADMIN_API_TOKEN,
    port,
    persistTo: join(dir, "state"),
    vars,
    logFile: join(RESULTS_DIR, `wrangler-dev-${name}.log`),
    dir,
  });
}

/** Stop a worker (default: the shared one) and wait until its processes are gone and the port is free. */
export async function stopWorker(worker: E2eWorker = sharedWorker()): Promise<void> {
  const pid = recordedPid(worker.dir);
  if (pid) await stopProcessGroup(pid);
}

/** Stop and start again on the same port, state directory and vars (a server restart in production). */
export async function restartWorker(worker: E2eWorker = sharedWorker()): Promise<E2eWorker> {
  await stopWorker(worker);
  return launch(worker);
}

/** Stop every worker ever started under `runDir` (global teardown's safety net). */
export async function stopAllWorkers(runDir: string): Promise<void> {
  if (!existsSync(runDir)) return;
  for (const entry of readdirSync(runDir)) {
    const pid = recordedPid(join(runDir, entry));
    if (pid) await stopProcessGroup(pid);
  }
}
