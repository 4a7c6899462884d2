import type { Env, Settings } from "../../config";
import type { Db } from "../../store/db";

/** What every grant handler works with: bindings, settings, the D1 handle and background work. */
export interface GrantContext {
  env: Env;
  settings: Settings;
  db: Db;
  /** ctx.waitUntil: work that must finish but need not delay the response. */
  defer: (work: Promise<unknown>) => void;
  ip: string | null;
}
