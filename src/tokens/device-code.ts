/**
 * Device codes (RFC 8628 §3.2): opaque to the device, prefixed so secret scanners spot them, and
 * carrying the id of the DeviceAuthorization object that holds the request, so the token endpoint
 * reaches it with no lookup. The id is derived from the user code under the account's key, so it
 * reveals nothing about the user code; the random part is what makes the code unguessable.
 */
import { randomToken } from "./secrets";

export const DEVICE_CODE_PREFIX = "eoidc_dc_";

export function mintDeviceCode(objectId: string): string {
  return `${DEVICE_CODE_PREFIX}${objectId}.${randomToken(32)}`;
}

/** The object id inside a device code of ours, or null for anything else. */
export function deviceCodeObjectId(deviceCode: string): string | null {
  const match = /^eoidc_dc_([0-9a-f]{64})\.[\w-]{43}$/.exec(deviceCode);
  return match ? (match[1] as string) : null;
}
