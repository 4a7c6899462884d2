import type { Env, Settings } from "../config";

/** Hono environment of every handler: the bindings and the settings parsed once per isolate. */
export interface AppEnv {
  Bindings: Env;
  Variables: { settings: Settings };
}
