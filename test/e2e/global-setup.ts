/**
 * Starts the suite's shared worker once (`npm run dev` on a free port, fresh state) and hands its
 * base URL and admin token to tests through `provide` (read them with `sharedWorker()` or
 * `inject("e2e")`). The teardown stops every worker still running, restarted ones included.
 */
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { RESULTS_DIR, startWorker, stopAllWorkers } from "./harness/server";

export default async function setup(project: TestProject) {
  const runDir = await mkdtemp(join(tmpdir(), "edge-oidc-e2e-"));
  rmSync(join(RESULTS_DIR, "wrangler-dev-shared.log"), { force: true });
  let worker: Awaited<ReturnType<typeof startWorker>>;
  try {
    worker = await startWorker({ runDir, name: "shared" });
  } catch (error) {
    await stopAllWorkers(runDir);
    rmSync(runDir, { recursive: true, force: true });
    throw error;
  }
  project.provide("e2e", { ...worker, runDir });
  return async () => {
    await stopAllWorkers(runDir);
    // Keep the state when asked to, for debugging a failed run (E2E_KEEP_STATE=1).
    if (!process.env.E2E_KEEP_STATE) rmSync(runDir, { recursive: true, force: true });
  };
}
