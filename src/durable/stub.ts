import type { Env } from "../config";
import { fnv1a } from "../platform/fnv1a";
import type { ClientReplay } from "./client-replay";
import type { DeviceAuthorization } from "./device-authorization";
import type { UserGrants } from "./user-grants";

const userGrantsNamespace = (env: Pick<Env, "USER_GRANTS">) => env.USER_GRANTS as DurableObjectNamespace<UserGrants>;

/**
 * The UserGrants object of one person (one object per person, placed near where they first used
 * it): their token families, revocations and holder section. The binding is declared untyped in
 * config.ts (which sits below this layer); it is typed here.
 */
export function userGrants(env: Pick<Env, "USER_GRANTS">, userId: string): DurableObjectStub<UserGrants> {
  const namespace = userGrantsNamespace(env);
  return namespace.get(namespace.idFromName(userId));
}

/** A client_credentials app's service user has an id with this prefix (admin-apps.ts makes them). */
export const SERVICE_USER_ID_PREFIX = "usr_svc_";

/**
 * A service user's access tokens are checked by one of this many objects, so one busy app's
 * introspection is not held to one object's ~1,000 requests/s (docs/edge-latency.md, "The plan").
 */
export const SERVICE_USER_SHARDS = 16;

const isServiceUser = (userId: string) => userId.startsWith(SERVICE_USER_ID_PREFIX);

/** The name of one of a service user's objects (`idFromName`). */
export const serviceShardName = (userId: string, shard: number) => `${userId}#${shard}`;

/** The shard that keeps a token's revocation, by a hash of its jti (random already). */
export function serviceShardOf(jti: string): number {
  return fnv1a(jti) % SERVICE_USER_SHARDS;
}

/**
 * Where an object may be asked to live (Cloudflare's Durable Object location hints), by region name.
 * An object is created where the first `get()` naming it comes from, or in the hinted region; only
 * that first `get()` counts, so a hint is given where an object is first called.
 */
export const LOCATION_HINTS = {
  wnam: "Western North America",
  enam: "Eastern North America",
  sam: "South America",
  weur: "Western Europe",
  eeur: "Eastern Europe",
  apac: "Asia-Pacific",
  "apac-ne": "Northeast Asia-Pacific",
  "apac-se": "Southeast Asia-Pacific",
  oc: "Oceania",
  afr: "Africa",
  me: "Middle East",
} as const satisfies Record<DurableObjectLocationHint, string>;

export type LocationHint = keyof typeof LOCATION_HINTS;

export const isLocationHint = (value: unknown): value is LocationHint =>
  typeof value === "string" && Object.hasOwn(LOCATION_HINTS, value);

function serviceShard(
  env: Pick<Env, "USER_GRANTS">,
  userId: string,
  shard: number,
  locationHint?: LocationHint | null,
): DurableObjectStub<UserGrants> {
  const namespace = userGrantsNamespace(env);
  return namespace.get(
    namespace.idFromName(serviceShardName(userId, shard)),
    locationHint ? { locationHint } : undefined,
  );
}

/**
 * The object that answers for one access token (its revocation, a DPoP proof spent with it, the
 * holder's role): its person's object, or the service user's shard its jti falls in.
 */
export function accessTokenGrants(
  env: Pick<Env, "USER_GRANTS">,
  userId: string,
  jti: string,
): DurableObjectStub<UserGrants> {
  return isServiceUser(userId) ? serviceShard(env, userId, serviceShardOf(jti)) : userGrants(env, userId);
}

/**
 * Every object keeping this user's holder section and "revoke everything" stamp: a person's one,
 * or all of a service user's shards. Holder-wide writes go to each. `locationHint`: where a service
 * user's shards are to be created, given by the app's creation, their first call (a person's object
 * is first called by their own sign-in, so it is created near them without one).
 */
export function everyUserGrants(
  env: Pick<Env, "USER_GRANTS">,
  userId: string,
  locationHint?: LocationHint | null,
): DurableObjectStub<UserGrants>[] {
  if (!isServiceUser(userId)) return [userGrants(env, userId)];
  return Array.from({ length: SERVICE_USER_SHARDS }, (_, shard) => serviceShard(env, userId, shard, locationHint));
}

/** The ClientReplay object of one client: its assertion and client_credentials proof jtis. */
export function clientReplay(env: Pick<Env, "CLIENT_REPLAY">, clientId: string): DurableObjectStub<ClientReplay> {
  const namespace = env.CLIENT_REPLAY as DurableObjectNamespace<ClientReplay>;
  return namespace.get(namespace.idFromName(clientId));
}

const deviceAuthorizations = (env: Pick<Env, "DEVICE_AUTHORIZATIONS">) =>
  env.DEVICE_AUTHORIZATIONS as DurableObjectNamespace<DeviceAuthorization>;

/** The DeviceAuthorization object of one normalized user code (RFC 8628 §3.2). */
export function deviceAuthorizationByUserCode(
  env: Pick<Env, "DEVICE_AUTHORIZATIONS">,
  userCode: string,
): DurableObjectStub<DeviceAuthorization> {
  const namespace = deviceAuthorizations(env);
  return namespace.get(namespace.idFromName(userCode));
}

/** The id string the device code carries, so the token endpoint reaches the object with no lookup. */
export function deviceAuthorizationObjectId(env: Pick<Env, "DEVICE_AUTHORIZATIONS">, userCode: string): string {
  return deviceAuthorizations(env).idFromName(userCode).toString();
}

/** The object a device code names, or null when the id inside it is not one of ours. */
export function deviceAuthorizationById(
  env: Pick<Env, "DEVICE_AUTHORIZATIONS">,
  objectId: string,
): DurableObjectStub<DeviceAuthorization> | null {
  const namespace = deviceAuthorizations(env);
  try {
    return namespace.get(namespace.idFromString(objectId));
  } catch {
    return null;
  }
}
