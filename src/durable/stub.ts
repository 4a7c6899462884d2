import type { Env } from "../config";
import type { ClientReplay } from "./client-replay";
import type { UserGrants } from "./user-grants";

/**
 * The UserGrants object of one user (one object per user, placed near where they first used it).
 * The binding is declared untyped in config.ts (which sits below this layer); it is typed here.
 */
export function userGrants(env: Pick<Env, "USER_GRANTS">, userId: string): DurableObjectStub<UserGrants> {
  const namespace = env.USER_GRANTS as DurableObjectNamespace<UserGrants>;
  return namespace.get(namespace.idFromName(userId));
}

/** The ClientReplay object of one client: its assertion and client_credentials proof jtis. */
export function clientReplay(env: Pick<Env, "CLIENT_REPLAY">, clientId: string): DurableObjectStub<ClientReplay> {
  const namespace = env.CLIENT_REPLAY as DurableObjectNamespace<ClientReplay>;
  return namespace.get(namespace.idFromName(clientId));
}
