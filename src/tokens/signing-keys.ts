/**
 * Signing keys: an ES256 key (access tokens) and an RS256 key (ID tokens by default), created on
 * first use, stored with the private part sealed under KEY_ENCRYPTION_SECRET, imported once per
 * isolate. Rotation publishes the new key at once and keeps the old one in the JWKS until every
 * token it signed has expired.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Settings } from "../config";
import type { Db } from "../store/db";
import { insertFirstKey, type KeyAlg, listPublishedKeys, replaceCurrentKey, type SigningKeyRow } from "../store/keys";
import { openSealed, purposeKey, seal } from "./secrets";

export const KEY_ALGS: readonly KeyAlg[] = ["ES256", "RS256"];
const WRAP_INFO = "signing-key-wrap v1";
/** How long a keyset read from D1 is trusted by an isolate, so a rotation reaches every isolate. */
const KEYSET_TTL_MS = 60_000;
/** Allowance for clock skew of relying parties when deciding how long a retired key stays published. */
const CLOCK_SKEW_MS = 5 * 60_000;

export interface SigningKey {
  kid: string;
  alg: KeyAlg;
  privateKey: CryptoKey;
}

export interface Keyset {
  /** The current key of each algorithm. */
  current: Record<KeyAlg, SigningKey>;
  /** Public JWKs to publish: current and retired-but-still-valid keys. */
  jwks: { keys: JWK[] };
  /** Public keys by kid, for verifying our own tokens. */
  verification: Map<string, { alg: KeyAlg; key: CryptoKey }>;
  loadedAt: number;
}

/**
 * Only a loaded keyset is shared between requests, never a load in progress: workerd cancels a
 * request's continuations on a promise whose own request was cancelled, so a shared pending load
 * could hang every request waiting on it. Once the keyset is past its TTL, one request reloads it
 * and the others keep using it meanwhile (otherwise every request arriving during the reload would
 * load too: a D1 read and four key imports each, once a minute, in one burst). A reload that has
 * not finished after RELOAD_TAKEOVER_MS is presumed abandoned and the next request takes over; a
 * keyset older than KEYSET_MAX_STALE_MS is never used.
 */
let cached: { settings: Settings; keyset: Keyset } | undefined;
/** When the reload of a stale keyset started (0: none running). */
let reloadStartedAt = 0;
const RELOAD_TAKEOVER_MS = 10_000;
const KEYSET_MAX_STALE_MS = 10 * 60_000;

async function createKeyRow(settings: Settings, alg: KeyAlg, now: number): Promise<SigningKeyRow> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, modulusLength: 2048 });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const privateJwk = await exportJWK(privateKey);
  const wrapKey = await purposeKey(settings, WRAP_INFO);
  return {
    kid,
    alg,
    status: "current",
    publicJwk: { ...publicJwk, kid, alg, use: "sig" },
    privateJwkEncrypted: await seal(wrapKey, JSON.stringify(privateJwk), kid),
    createdAt: now,
    publishUntil: null,
  };
}

async function loadKeyset(db: Db, settings: Settings): Promise<Keyset> {
  const now = Date.now();
  let rows = await listPublishedKeys(db, now);
  const missing = KEY_ALGS.filter((alg) => !rows.some((r) => r.alg === alg && r.status === "current"));
  if (missing.length > 0) {
    for (const alg of missing) await insertFirstKey(db, await createKeyRow(settings, alg, now));
    rows = await listPublishedKeys(db, now);
  }
  const wrapKey = await purposeKey(settings, WRAP_INFO);
  const current = {} as Record<KeyAlg, SigningKey>;
  const verification = new Map<string, { alg: KeyAlg; key: CryptoKey }>();
  for (const row of rows) {
    verification.set(row.kid, { alg: row.alg, key: (await importJWK(row.publicJwk as JWK, row.alg)) as CryptoKey });
    if (row.status !== "current") continue;
    const json = await openSealed(wrapKey, row.privateJwkEncrypted, row.kid);
    if (json === null) {
      throw new Error(
        `signing key ${row.kid} cannot be decrypted: KEY_ENCRYPTION_SECRET differs from the one that sealed it`,
      );
    }
    const privateKey = (await importJWK(JSON.parse(json) as JWK, row.alg)) as CryptoKey;
    current[row.alg] = { kid: row.kid, alg: row.alg, privateKey };
  }
  return { current, jwks: { keys: rows.map((r) => r.publicJwk as JWK) }, verification, loadedAt: now };
}

/** The keyset, from the isolate cache when fresh (or while another request reloads it). */
export async function keysetOf(db: Db, settings: Settings): Promise<Keyset> {
  const hit = cached?.settings === settings ? cached.keyset : undefined;
  const now = Date.now();
  if (hit) {
    const age = now - hit.loadedAt;
    if (age < KEYSET_TTL_MS) return hit;
    if (age < KEYSET_MAX_STALE_MS && now - reloadStartedAt < RELOAD_TAKEOVER_MS) return hit;
  }
  if (hit) reloadStartedAt = now;
  try {
    const keyset = await loadKeyset(db, settings);
    cached = { settings, keyset };
    return keyset;
  } finally {
    if (hit) reloadStartedAt = 0;
  }
}

/** Forget the isolate's keyset (after a rotation made by this isolate). */
export function forgetKeyset(): void {
  cached = undefined;
}

/**
 * Adds a new current key for `alg`; the previous one stays published until every token it signed
 * has expired (the longest token lifetime it signs, plus clock skew).
 */
export async function rotateSigningKey(db: Db, settings: Settings, alg: KeyAlg): Promise<string> {
  const now = Date.now();
  await keysetOf(db, settings); // make sure a current key exists to retire
  const row = await createKeyRow(settings, alg, now);
  const longestLifetimeMs = Math.max(settings.accessTokenTtl, settings.idTokenTtl) * 1000;
  await replaceCurrentKey(db, row, now + longestLifetimeMs + CLOCK_SKEW_MS);
  forgetKeyset();
  return row.kid;
}
