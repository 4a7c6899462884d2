/** DPoP proofs (RFC 9449 §4.2) made the way a client makes them, with jose, for the tests. */

import { env } from "cloudflare:workers";
import { base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { settingsOf } from "../src/config";
import { currentDpopNonce } from "../src/oauth/dpop-nonce";
import { ORIGIN } from "./helpers";

export interface DpopKey {
  alg: "ES256" | "EdDSA";
  privateKey: CryptoKey;
  publicJwk: JWK;
  jkt: string;
}

export async function dpopKey(alg: "ES256" | "EdDSA" = "ES256"): Promise<DpopKey> {
  const pair = await generateKeyPair(alg === "EdDSA" ? "Ed25519" : alg, { extractable: true });
  const publicJwk = await exportJWK(pair.publicKey);
  return { alg, privateKey: pair.privateKey, publicJwk, jkt: await calculateJwkThumbprint(publicJwk, "sha256") };
}

export interface ProofOptions {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
  nonce?: string;
  accessToken?: string;
  ath?: string;
  typ?: string;
  /** Replaces the public JWK in the header (e.g. one with a private part). */
  jwk?: JWK;
}

/** The server's current nonce (what a use_dpop_nonce answer hands out, RFC 9449 §8). */
export function serverNonce(): Promise<string> {
  return currentDpopNonce(settingsOf(env));
}

export async function proof(key: DpopKey, options: ProofOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = {
    htm: options.htm ?? "POST",
    htu: options.htu ?? `${ORIGIN}/oauth/token`,
  };
  if ("nonce" in options) {
    if (options.nonce !== undefined) payload.nonce = options.nonce;
  } else payload.nonce = await serverNonce();
  if (options.ath) payload.ath = options.ath;
  else if (options.accessToken) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(options.accessToken));
    payload.ath = base64url.encode(new Uint8Array(digest));
  }
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, typ: options.typ ?? "dpop+jwt", jwk: options.jwk ?? key.publicJwk })
    .setIssuedAt(options.iat ?? Math.floor(Date.now() / 1000))
    .setJti(options.jti ?? crypto.randomUUID())
    .sign(key.privateKey);
}

/** The payload of a JWT, unverified (for reading cnf). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(jwt.split(".")[1] as string)));
}
