/**
 * A client's public keys for private_key_jwt (RFC 7523 §2.2, OIDC Core §9): the `jwks` it
 * registered, or the JWK Set at its `jwks_uri`, fetched under the metadata-document SSRF rules
 * (client-fetch.ts), cached in the isolate for its Cache-Control lifetime (60 s … 24 h), and
 * rotation-safe by `kid`: an assertion naming a key the cached set lacks causes one refetch —
 * at most one per jwks_uri per minute, so forged kids cannot turn us into a fetch amplifier.
 */
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { Settings } from "../config";
import { SharedWork } from "../platform/shared-work";
import type { ClientRow } from "../store/clients";
import { checkFetchableUrl, fetchPublicJson, MetadataDocumentError, RememberedFailures } from "./client-fetch";
import { validateJwks } from "./client-metadata";
import { OAuthError } from "./errors";

/** How often an unknown kid may trigger a refetch of one jwks_uri. */
export const UNKNOWN_KID_REFETCH_INTERVAL_MS = 60_000;
const MAX_CACHED = 500;

interface CachedKeys {
  keys: JWTVerifyGetKey;
  expiresAt: number;
  /** When an unknown kid last forced a refetch (Unix ms). */
  forcedAt: number;
}

const cache = new Map<string, CachedKeys>();
const fetches = new SharedWork<CachedKeys>(5000);
/** A jwks_uri that could not be fetched or used is not fetched again for a minute (client-fetch.ts). */
const failures = new RememberedFailures(MAX_CACHED);

/** Why the client's keys cannot be used; the message is safe to show the client's developer. */
export class ClientKeysError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "ClientKeysError";
  }
}

async function fetchKeys(settings: Settings, uri: string, forcedAt: number): Promise<CachedKeys> {
  const failed = failures.problem(uri, Date.now());
  if (failed !== undefined) throw new ClientKeysError(failed);
  try {
    return await fetchKeysNow(settings, uri, forcedAt);
  } catch (e) {
    if (e instanceof ClientKeysError) failures.remember(uri, e.message, Date.now());
    throw e;
  }
}

async function fetchKeysNow(settings: Settings, uri: string, forcedAt: number): Promise<CachedKeys> {
  try {
    const url = checkFetchableUrl(uri, "the jwks_uri", { allowLoopback: settings.allowLoopbackMetadataDocuments });
    const fetched = await fetchPublicJson(url, "the JWKS");
    const jwks = validateJwks(fetched.document) as JSONWebKeySet;
    const entry = { keys: createLocalJWKSet(jwks), expiresAt: Date.now() + fetched.maxAgeSeconds * 1000, forcedAt };
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
    cache.set(uri, entry);
    failures.forget(uri);
    return entry;
  } catch (e) {
    if (e instanceof MetadataDocumentError) throw new ClientKeysError(e.message);
    if (e instanceof OAuthError) throw new ClientKeysError(`the JWKS at the jwks_uri is invalid: ${e.description}`);
    throw e;
  }
}

/**
 * Runs `verify` with the client's keys. With a jwks_uri, a verification that fails for want of a
 * key with the token's kid (jose's JWKSNoMatchingKey) is retried once with a fresh set, unless
 * the set was fetched for this very call or an unknown kid forced a refetch less than a minute ago.
 */
export async function withClientKeys<T>(
  settings: Settings,
  client: ClientRow,
  verify: (keys: JWTVerifyGetKey) => Promise<T>,
): Promise<T> {
  const { jwks, jwks_uri: uri } = client.metadata;
  if (jwks !== undefined) return verify(createLocalJWKSet(jwks as JSONWebKeySet));
  if (typeof uri !== "string") throw new ClientKeysError("the client has registered no keys (jwks or jwks_uri)");
  const now = Date.now();
  let entry = cache.get(uri);
  let fresh = false;
  if (!entry || entry.expiresAt <= now) {
    const forcedAt = entry?.forcedAt ?? 0;
    entry = await fetches.run(uri, () => fetchKeys(settings, uri, forcedAt));
    fresh = true;
  }
  try {
    return await verify(entry.keys);
  } catch (e) {
    if (!(e instanceof errors.JWKSNoMatchingKey) || fresh || now - entry.forcedAt < UNKNOWN_KID_REFETCH_INTERVAL_MS) {
      throw e;
    }
    entry.forcedAt = now;
    const refetched = await fetches.run(uri, () => fetchKeys(settings, uri, now));
    return verify(refetched.keys);
  }
}

/** Drops the cached set of a jwks_uri (an admin changed the client's keys in this isolate). */
export function forgetClientKeys(uri: string): void {
  cache.delete(uri);
  failures.forget(uri);
}
