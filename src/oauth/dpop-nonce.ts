/**
 * Server-provided DPoP nonces (RFC 9449 §8, §9) without storage: the nonce of a time window is an
 * HMAC of the window's number under a key derived from KEY_ENCRYPTION_SECRET. Every isolate
 * computes the same nonce, none is stored, and rotation is the clock: a nonce is issued for
 * NONCE_WINDOW_SECONDS and accepted during its window and the next one (the overlap), so a client
 * that fetched one just before a rotation is not bounced. A proof's nonce bounds how long ago it
 * can have been made, whatever the client's clock says.
 */
import { base64url } from "jose";
import type { Settings } from "../config";
import { purposeMacKey, timingSafeEqual } from "../tokens/secrets";

export const NONCE_WINDOW_SECONDS = 300;
const NONCE_INFO = "dpop-nonce v1";
const encoder = new TextEncoder();

/** The last few windows' nonces, so the hot path does one HMAC per window per isolate. */
const computed = new Map<number, Promise<string>>();

function windowOf(nowSeconds: number): number {
  return Math.floor(nowSeconds / NONCE_WINDOW_SECONDS);
}

function nonceOfWindow(settings: Settings, window: number): Promise<string> {
  let nonce = computed.get(window);
  if (!nonce) {
    nonce = purposeMacKey(settings, NONCE_INFO).then(async (key) =>
      base64url.encode(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${window}`))).slice(0, 18)),
    );
    if (computed.size > 8) computed.clear();
    computed.set(window, nonce);
  }
  return nonce;
}

/** The nonce to hand out now (DPoP-Nonce header, §8.1). */
export function currentDpopNonce(settings: Settings, nowSeconds = Math.floor(Date.now() / 1000)): Promise<string> {
  return nonceOfWindow(settings, windowOf(nowSeconds));
}

/** §8.2: accepted when it is this window's nonce or the previous window's (the overlap). */
export async function isCurrentDpopNonce(
  settings: Settings,
  nonce: string | undefined,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<boolean> {
  if (nonce === undefined || nonce.length > 64) return false;
  const window = windowOf(nowSeconds);
  const [current, previous] = await Promise.all([nonceOfWindow(settings, window), nonceOfWindow(settings, window - 1)]);
  return timingSafeEqual(nonce, current) || timingSafeEqual(nonce, previous);
}
