import type { Env } from "../config";
import type { UserGrants } from "./user-grants";

/**
 * The UserGrants object of one user (one object per user, placed near where they first used it).
 * The binding is declared untyped in config.ts (which sits below this layer); it is typed here.
 */
export function userGrants(env: Pick<Env, "USER_GRANTS">, userId: string): DurableObjectStub<UserGrants> {
  const namespace = env.USER_GRANTS as DurableObjectNamespace<UserGrants>;
  return namespace.get(namespace.idFromName(userId));
}
