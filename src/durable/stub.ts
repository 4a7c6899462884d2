import type { Env } from "../config";

/** The UserGrants object of one user (one object per user, placed near where they first used it). */
export function userGrants(env: Env, userId: string) {
  return env.USER_GRANTS.get(env.USER_GRANTS.idFromName(userId));
}

/** The DeviceAuthorization object of one normalized user code (RFC 8628 §3.2). */
export function deviceAuthorizationByUserCode(env: Env, userCode: string) {
  return env.DEVICE_AUTHORIZATIONS.get(env.DEVICE_AUTHORIZATIONS.idFromName(userCode));
}

/** The id string the device code carries, so the token endpoint reaches the object with no lookup. */
export function deviceAuthorizationObjectId(env: Env, userCode: string): string {
  return env.DEVICE_AUTHORIZATIONS.idFromName(userCode).toString();
}

/** The object a device code names, or null when the id inside it is not one of ours. */
export function deviceAuthorizationById(env: Env, objectId: string) {
  try {
    return env.DEVICE_AUTHORIZATIONS.get(env.DEVICE_AUTHORIZATIONS.idFromString(objectId));
  } catch {
    return null;
  }
}
