import type { Env } from "../config";
import type { ClientReplay } from "./client-replay";
import type { DeviceAuthorization } from "./device-authorization";
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
