/**
 * RFC 9068 JWT access tokens: minted with the current ES256 key, verified locally with the isolate's
 * keyset (no network, no D1 on the hot path once the keyset is loaded).
 */
import { decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from "jose";
import type { Settings } from "../config";
import { randomToken } from "./secrets";
import type { Keyset } from "./signing-keys";

export interface AccessTokenClaims {
  sub: string;
  /** One audience, or several (a resource and the issuer, resource.ts). */
  aud: string | string[];
  clientId: string;
  scope: string;
  teamId: string;
  /** The token family it came from; absent for client_credentials. */
  familyId?: string;
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`). */
  jkt?: string;
}

export interface VerifiedAccessToken extends JWTPayload {
  sub: string;
  aud: string | string[];
  client_id: string;
  scope: string;
  team_id: string;
  jti: string;
  iat: number;
  exp: number;
  fid?: string;
  /** RFC 9449 §6.1: present on DPoP-bound tokens. */
  cnf?: { jkt?: unknown };
}

export async function mintAccessToken(
  keyset: Keyset,
  settings: Settings,
  claims: AccessTokenClaims,
  now = Math.floor(Date.now() / 1000),
): Promise<{ token: string; jti: string; exp: number }> {
  const key = keyset.current.ES256;
  const jti = randomToken(16);
  const exp = now + settings.accessTokenTtl;
  const token = await new SignJWT({
    client_id: claims.clientId,
    scope: claims.scope,
    team_id: claims.teamId,
    ...(claims.familyId ? { fid: claims.familyId } : {}),
    ...(claims.jkt ? { cnf: { jkt: claims.jkt } } : {}),
  })
    // RFC 9068 §2.1: typ "at+jwt".
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: key.kid })
    .setIssuer(settings.issuer)
    .setSubject(claims.sub)
    .setAudience(claims.aud)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key.privateKey);
  return { token, jti, exp };
}

/**
 * Verifies signature (by kid, ES256 only), typ, issuer and lifetime (RFC 9068 §4). Returns null for
 * anything that is not a live access token of ours — callers answer invalid_token / active:false.
 */
export async function verifyAccessToken(
  keyset: Keyset,
  settings: Settings,
  token: string,
): Promise<VerifiedAccessToken | null> {
  if (token.length > 4096 || token.split(".").length !== 3) return null;
  try {
    const header = decodeProtectedHeader(token);
    const entry = typeof header.kid === "string" ? keyset.verification.get(header.kid) : undefined;
    if (entry?.alg !== "ES256" || header.alg !== "ES256") return null;
    const { payload } = await jwtVerify(token, entry.key, {
      issuer: settings.issuer,
      typ: "at+jwt",
      algorithms: ["ES256"],
      requiredClaims: ["sub", "aud", "exp", "iat", "jti", "client_id", "scope", "team_id"],
    });
    const aud = payload.aud;
    if (typeof aud !== "string" && !(Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === "string"))) {
      return null;
    }
    return payload as VerifiedAccessToken;
  } catch {
    return null;
  }
}
