/** OpenID Connect ID tokens (OIDC Core §2): RS256 by default, ES256 when the client registered it. */
import { base64url, compactVerify, decodeProtectedHeader, SignJWT } from "jose";
import type { Settings } from "../config";
import type { Keyset } from "./signing-keys";

export interface IdTokenInput {
  sub: string;
  clientId: string;
  alg: "RS256" | "ES256";
  nonce: string | null;
  authTime: number;
  accessToken: string;
  /** Profile and email claims the granted scopes allow (OIDC Core §5.4). */
  claims: Record<string, unknown>;
}

/** OIDC Core §3.1.3.6: left half of the SHA-256 of the access token's ASCII, base64url. */
export async function atHash(accessToken: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken)));
  return base64url.encode(digest.slice(0, digest.length / 2));
}

export async function mintIdToken(keyset: Keyset, settings: Settings, input: IdTokenInput): Promise<string> {
  const key = keyset.current[input.alg];
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...input.claims,
    auth_time: input.authTime,
    at_hash: await atHash(input.accessToken),
    ...(input.nonce ? { nonce: input.nonce } : {}),
  })
    .setProtectedHeader({ alg: input.alg, typ: "JWT", kid: key.kid })
    .setIssuer(settings.issuer)
    .setSubject(input.sub)
    .setAudience(input.clientId)
    .setIssuedAt(now)
    .setExpirationTime(now + settings.idTokenTtl)
    .sign(key.privateKey);
}

/** What an id_token_hint says (OpenID Connect RP-Initiated Logout 1.0 §2). */
export interface IdTokenHint {
  sub: string;
  /** The client ids it was issued to. */
  aud: string[];
}

/**
 * An ID token of ours as a logout hint: our signature (by kid, any published key) and issuer, typ
 * JWT (an access token, at+jwt, is refused). Expiry is not checked: RP-Initiated Logout 1.0 §2 has
 * the OP accept expired ID tokens as hints. Null for anything else.
 */
export async function readIdTokenHint(keyset: Keyset, settings: Settings, token: string): Promise<IdTokenHint | null> {
  if (token.length > 8192 || token.split(".").length !== 3) return null;
  try {
    const header = decodeProtectedHeader(token);
    const entry = typeof header.kid === "string" ? keyset.verification.get(header.kid) : undefined;
    if (!entry || header.alg !== entry.alg || header.typ !== "JWT") return null;
    const { payload } = await compactVerify(token, entry.key, { algorithms: [entry.alg] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.iss !== settings.issuer || typeof claims.sub !== "string") return null;
    const aud = typeof claims.aud === "string" ? [claims.aud] : claims.aud;
    if (!Array.isArray(aud) || aud.length === 0 || !aud.every((a) => typeof a === "string")) return null;
    return { sub: claims.sub, aud };
  } catch {
    return null;
  }
}
