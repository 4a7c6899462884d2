/**
 * private_key_jwt (RFC 7523 §2.2 and §3, OIDC Core §9): a client authenticates with a JWT it signed
 * with one of its registered keys. iss = sub = client_id, aud = our issuer or token endpoint, a short
 * exp, and a jti used once — spent in the client's own ClientReplay object, so replay is refused
 * atomically without a global ledger (docs/security.md).
 */
import { decodeJwt, errors, jwtVerify } from "jose";
import type { Env, Settings } from "../config";
import { clientReplay } from "../durable/stub";
import type { ClientRow } from "../store/clients";
import { ClientKeysError, withClientKeys } from "./client-keys";
import { ENDPOINT_PATHS, endpointUrl } from "./metadata";
import { CLIENT_ASSERTION_SIGNING_ALGS } from "./signing-algorithms";

/** RFC 7523 §2.2. */
export const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/** "short exp": an assertion may live at most this long from now (clients use ~60 s). */
export const MAX_ASSERTION_LIFETIME_SECONDS = 300;
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_ASSERTION_LENGTH = 8192;

export type AssertionCheck = { jti: string; expiresAt: number } | { problem: string };

/** The client an assertion names (its `sub`), for a request that sends no client_id (RFC 7523 §3). */
export function assertionSubject(assertion: string): string | undefined {
  try {
    const sub = decodeJwt(assertion).sub;
    return typeof sub === "string" && sub.length > 0 ? sub : undefined;
  } catch {
    return undefined;
  }
}

function describe(e: unknown): string {
  if (e instanceof ClientKeysError) return e.message;
  if (e instanceof errors.JWTExpired) return "the client assertion has expired (RFC 7523 §3)";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "aud") return "the client assertion's aud must be the issuer or the token endpoint (RFC 7523 §3)";
    if (e.claim === "iss" || e.claim === "sub") return "the client assertion's iss and sub must be the client_id";
    return `the client assertion's ${e.claim} claim is missing or invalid (RFC 7523 §3)`;
  }
  if (e instanceof errors.JWKSNoMatchingKey) return "the client assertion's kid names none of the client's keys";
  if (e instanceof errors.JOSEAlgNotAllowed) {
    return `the client assertion must be signed with ${CLIENT_ASSERTION_SIGNING_ALGS.join(", ")}`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return "the client assertion's signature is invalid";
  return "the client assertion is not a valid signed JWT";
}

/** Signature, claims and lifetime (RFC 7523 §3); the jti is returned to be spent once authentication succeeds. */
export async function verifyClientAssertion(
  settings: Settings,
  client: ClientRow,
  assertion: string,
): Promise<AssertionCheck> {
  if (assertion.length > MAX_ASSERTION_LENGTH) return { problem: "the client assertion is too long" };
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await withClientKeys(settings, client, (keys) =>
      jwtVerify(assertion, keys, {
        issuer: client.id,
        subject: client.id,
        audience: [settings.issuer, endpointUrl(settings, ENDPOINT_PATHS.token)],
        algorithms: [...CLIENT_ASSERTION_SIGNING_ALGS],
        requiredClaims: ["exp", "jti"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }),
    ));
  } catch (e) {
    return { problem: describe(e) };
  }
  const exp = payload.exp as number;
  const now = Math.floor(Date.now() / 1000);
  if (exp > now + MAX_ASSERTION_LIFETIME_SECONDS) {
    return { problem: `the client assertion's exp must be at most ${MAX_ASSERTION_LIFETIME_SECONDS} s ahead` };
  }
  const jti = payload.jti;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > 256) {
    return { problem: "the client assertion's jti must be a non-empty string of at most 256 characters" };
  }
  return { jti, expiresAt: (exp + CLOCK_TOLERANCE_SECONDS + 1) * 1000 };
}

/** RFC 7523 §3 point 7: one use per jti, decided atomically by the client's ClientReplay object. */
export function spendAssertionJti(env: Env, clientId: string, jti: string, expiresAt: number): Promise<boolean> {
  return clientReplay(env, clientId).spend(`assertion:${jti}`, expiresAt);
}
