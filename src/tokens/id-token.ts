/** OpenID Connect ID tokens (OIDC Core §2): RS256 by default, ES256 when the client registered it. */
import { base64url, SignJWT } from "jose";
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
