/** `npm run admin -- …` exactly as an operator runs it: Node, the CLI script, the operator token. */
import { spawnSync } from "node:child_process";
import type { E2eWorker } from "./server";

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the admin CLI against `worker` (EDGE_OIDC_URL and ADMIN_API_TOKEN set as an operator would). */
export function adminCli(worker: E2eWorker, ...args: string[]): CliRun {
  const run = spawnSync(process.execPath, ["scripts/admin.mjs", ...args], {
    encoding: "utf8",
    env: { ...process.env, EDGE_OIDC_URL: worker.baseUrl, ADMIN_API_TOKEN: worker.adminToken },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
