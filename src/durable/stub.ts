import type { Env } from "../config";

/** The UserGrants object of one user (one object per user, placed near where they first used it). */
export function userGrants(env: Env, userId: string) {
  return env.USER_GRANTS.get(env.USER_GRANTS.idFromName(userId));
}

/** The ClientReplay object of one client: its assertion and client_credentials proof jtis. */
export function clientReplay(env: Env, clientId: string) {
  return env.CLIENT_REPLAY.get(env.CLIENT_REPLAY.idFromName(clientId));
}
