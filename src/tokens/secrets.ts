/**
 * Small Web Crypto building blocks used by every module that makes or checks a secret: random
 * tokens, SHA-256 fingerprints, constant-time comparison, and AES-GCM sealing under keys derived
 * (HKDF) from KEY_ENCRYPTION_SECRET.
 */
import { base64url } from "jose";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Used only when the issuer is loopback and no KEY_ENCRYPTION_SECRET is set (local development). */
const DEVELOPMENT_SECRET = "edge-oidc local development only - never used with a public issuer";

/** A URL-safe random string carrying `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

export async function sha256(input: string | Uint8Array): Promise<string> {
  const data = typeof input === "string" ? encoder.encode(input) : input;
  return base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", data)));
}

/** Constant-time equality of two strings (compare hashes, so lengths leak nothing useful). */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  if (left.byteLength !== right.byteLength) {
    // Still spend the comparison so the timing does not depend on where the inputs differ.
    crypto.subtle.timingSafeEqual(left, left);
    return false;
  }
  return crypto.subtle.timingSafeEqual(left, right);
}

export class MissingSecretError extends Error {
  constructor() {
    super(
      "Configuration error: KEY_ENCRYPTION_SECRET is required when the issuer is not loopback " +
        "(set it with `wrangler secret put KEY_ENCRYPTION_SECRET`); refusing to sign or seal anything",
    );
    this.name = "MissingSecretError";
  }
}

export interface SecretSettings {
  keyEncryptionSecret: string | undefined;
  issuerIsLoopback: boolean;
}

/** What HKDF derives: an AES-256-GCM key for sealing, or an HMAC-SHA256 key for deriving values. */
const DERIVED_KEYS = {
  aes: { algorithm: { name: "AES-GCM", length: 256 }, usages: ["encrypt", "decrypt"] },
  hmac: { algorithm: { name: "HMAC", hash: "SHA-256", length: 256 }, usages: ["sign"] },
} satisfies Record<string, { algorithm: Parameters<SubtleCrypto["deriveKey"]>[2]; usages: string[] }>;
type DerivedKeyKind = keyof typeof DERIVED_KEYS;

/** A key derived from `material` with HKDF-SHA256 for one purpose (`info`). */
async function hkdfKey(material: string, info: string, kind: DerivedKeyKind): Promise<CryptoKey> {
  const ikm = await crypto.subtle.importKey("raw", encoder.encode(material), "HKDF", false, ["deriveKey"]);
  const { algorithm, usages } = DERIVED_KEYS[kind];
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: encoder.encode("edge-oidc"), info: encoder.encode(info) },
    ikm,
    algorithm,
    false,
    usages,
  );
}

const derivedKeys = new Map<string, Promise<CryptoKey>>();

function serverPurposeKey(settings: SecretSettings, info: string, kind: DerivedKeyKind): Promise<CryptoKey> {
  const secret = settings.keyEncryptionSecret ?? (settings.issuerIsLoopback ? DEVELOPMENT_SECRET : undefined);
  if (secret === undefined) return Promise.reject(new MissingSecretError());
  const cacheKey = `${kind}\u0000${info}\u0000${secret}`;
  let key = derivedKeys.get(cacheKey);
  if (!key) {
    key = hkdfKey(secret, info, kind);
    derivedKeys.set(cacheKey, key);
  }
  return key;
}

/** An AES-256-GCM key for one purpose (`info`), derived from KEY_ENCRYPTION_SECRET once per isolate. */
export function purposeKey(settings: SecretSettings, info: string): Promise<CryptoKey> {
  return serverPurposeKey(settings, info, "aes");
}

/** An HMAC-SHA256 key for one purpose (`info`), derived from KEY_ENCRYPTION_SECRET once per isolate. */
export function purposeMacKey(settings: SecretSettings, info: string): Promise<CryptoKey> {
  return serverPurposeKey(settings, info, "hmac");
}

/** AES-GCM seal: `v1.<iv>.<ciphertext>`, base64url. `aad` binds the ciphertext to its context. */
export async function seal(key: CryptoKey, plaintext: string | Uint8Array, aad = ""): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = typeof plaintext === "string" ? encoder.encode(plaintext) : plaintext;
  const ct = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(aad) }, key, data);
  return `v1.${base64url.encode(iv)}.${base64url.encode(new Uint8Array(ct))}`;
}

/** Opens what `seal` made; null when it was tampered with or sealed under another key. */
export async function openSealedBytes(key: CryptoKey, sealed: string, aad = ""): Promise<Uint8Array | null> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) return null;
  try {
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64url.decode(iv), additionalData: encoder.encode(aad) },
      key,
      base64url.decode(ct),
    );
    return new Uint8Array(pt);
  } catch {
    return null;
  }
}

export async function openSealed(key: CryptoKey, sealed: string, aad = ""): Promise<string | null> {
  const bytes = await openSealedBytes(key, sealed, aad);
  return bytes ? decoder.decode(bytes) : null;
}
