/**
 * The device authorization request (RFC 8628 §3.1–3.2): an authenticated client that registered
 * the device_code grant asks for scopes (and a resource, RFC 8707); it gets a device code to poll
 * with and a user code for the person. The pending request lives in its own DeviceAuthorization
 * object, found by the user code (from /device) and by the id inside the device code (from the
 * token endpoint).
 */
import { deviceAuthorizationByUserCode, deviceAuthorizationObjectId } from "../durable/stub";
import type { ClientRow } from "../store/clients";
import { mintDeviceCode } from "../tokens/device-code";
import { sha256 } from "../tokens/secrets";
import { OAuthError } from "./errors";
import { DEVICE_CODE_GRANT_TYPE } from "./grant-types";
import type { GrantContext } from "./grants/context";
import { endpointUrl } from "./metadata";
import { requestedClientScopes } from "./requested-scopes";
import { resolveResource } from "./resource";
import { formatUserCode, newUserCode } from "./user-code";

/** RFC 8628 §3.2 expires_in: 10 minutes to walk to another device, sign in and allow. */
export const DEVICE_CODE_TTL_SECONDS = 600;
/** RFC 8628 §3.2 interval: 5 s, the RFC's default. */
export const DEVICE_POLL_INTERVAL_SECONDS = 5;
/** The page for people (RFC 8628 §3.3). */
export const DEVICE_VERIFICATION_PATH = "/device";

export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

/** Drawing a user code already in use by a live request is a 1-in-2^40 event per live code; retry. */
const MAX_CODE_DRAWS = 4;

export async function startDeviceAuthorization(
  ctx: GrantContext,
  client: ClientRow,
  form: Record<string, string>,
): Promise<DeviceAuthorizationResponse> {
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
    throw new OAuthError("unauthorized_client", "this client did not register the device_code grant");
  }
  const scopes = requestedClientScopes(client, form.scope);
  const resource = form.resource ? resolveResource(ctx.settings, form.resource) : null;
  const now = Date.now();
  for (let draw = 0; draw < MAX_CODE_DRAWS; draw++) {
    const userCode = newUserCode();
    const deviceCode = mintDeviceCode(deviceAuthorizationObjectId(ctx.env, userCode));
    const started = await deviceAuthorizationByUserCode(ctx.env, userCode).start(
      {
        deviceCodeHash: await sha256(deviceCode),
        clientId: client.id,
        scopes,
        resource,
        expiresAt: now + DEVICE_CODE_TTL_SECONDS * 1000,
        interval: DEVICE_POLL_INTERVAL_SECONDS,
      },
      now,
    );
    if (!started) continue;
    const shown = formatUserCode(userCode);
    const verificationUri = endpointUrl(ctx.settings, DEVICE_VERIFICATION_PATH);
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?${new URLSearchParams({ user_code: shown })}`,
      expires_in: DEVICE_CODE_TTL_SECONDS,
      interval: DEVICE_POLL_INTERVAL_SECONDS,
    };
  }
  throw new OAuthError("temporarily_unavailable", "no free user code; try again");
}
