/** Shared test helpers: seeding and requests against the worker under test. */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { app } from "../src/app";
import type { Env } from "../src/config";

export async function seedDemo(): Promise<void> {
  const statements = env.TEST_SEED_SQL.split(/;\s*$/m)
    .map((s) => s.replace(/^--.*$/gm, "").trim())
    .filter(Boolean);
  await env.DB.batch(statements.map((s) => env.DB.prepare(s)));
}

export const ORIGIN = "http://127.0.0.1:8787";

/** A request to the worker under test, as a client on the network would send it. */
export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, init));
}

/**
 * A request to the worker under test with other bindings (settings) than the default ones; it waits
 * for the request's background work too. Without `bindings`, the same as `call`.
 */
export async function callWith(bindings: Env | undefined, path: string, init?: RequestInit): Promise<Response> {
  if (!bindings) return call(path, init);
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${ORIGIN}${path}`, init), bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}
