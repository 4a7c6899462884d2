/** OpenID Connect ID tokens (OIDC Core §2): RS256 by default, ES256 when the client registered it. */
import { base64url, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from "jose";
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

export interface VerifiedIdToken {
  sub: string;
  email?: string;
}

/** Far above any ID token we mint; a cheap refusal of oversized input before any crypto. */
const MAX_ID_TOKEN_LENGTH = 4096;

/**
 * An ID token we issued to `clientId`, signed by one of our published keys, or null. Its lifetime is
 * not checked: OIDC Core §3.1.2.1 accepts an expired ID token as id_token_hint. So it is verified as
 * of the moment it says it was issued (which must not be in the future): signature, typ, issuer and
 * audience by jose, exp only against iat. An access token (typ at+jwt) is never an ID token.
 */
export async function verifyIssuedIdToken(
  keyset: Keyset,
  settings: Settings,
  token: string,
  clientId: string,
): Promise<VerifiedIdToken | null> {
  if (token.length > MAX_ID_TOKEN_LENGTH || token.split(".").length !== 3) return null;
  try {
    const header = decodeProtectedHeader(token);
    const entry = typeof header.kid === "string" ? keyset.verification.get(header.kid) : undefined;
    if (!entry || header.alg !== entry.alg) return null;
    const { iat } = decodeJwt(token);
    if (typeof iat !== "number" || !Number.isSafeInteger(iat) || iat > Date.now() / 1000 + 60) return null;
    const { payload } = await jwtVerify(token, entry.key, {
      issuer: settings.issuer,
      audience: clientId,
      typ: "JWT",
      algorithms: [entry.alg],
      requiredClaims: ["sub", "iat", "exp"],
      currentDate: new Date(iat * 1000),
    });
    if (typeof payload.sub !== "string" || payload.sub === "") return null;
    return { sub: payload.sub, ...(typeof payload.email === "string" ? { email: payload.email } : {}) };
  } catch {
    return null;
  }
}
