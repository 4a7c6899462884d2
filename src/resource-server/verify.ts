/**
 * Verifying an edge-oidc access token at a resource server: locally, with the authorization
 * server's JWKS (RFC 9068 §4: signature by kid, typ at+jwt, iss, aud = this resource, exp), and —
 * only when configured — asking the introspection endpoint (RFC 7662) whether it is still live.
 *
 * The trade-off: local validation costs no network call per request, but it cannot see a
 * revocation (or a role downgrade) before the token expires (1 hour by default). Introspection sees
 * both at once, for one call to the authorization server per request.
 */
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from "jose";

export interface VerifiedAccessToken {
  /** The user (or an app's service user) the token acts for. */
  sub: string;
  clientId: string;
  /** The scopes it holds: from the token, or — with introspection — effective right now. */
  scopes: string[];
  teamId: string | undefined;
  jti: string;
  /** Unix seconds. */
  exp: number;
  /** RFC 9449 §6.1: the thumbprint of the DPoP key the token is bound to (`cnf.jkt`), if any. */
  jkt: string | undefined;
  claims: JWTPayload;
}

export type Verification = { token: VerifiedAccessToken } | { invalid: string } | { unavailable: string };

export interface IntrospectionCredentials {
  /** A confidential client of the same team (introspection shows a team's tokens to its own apps). */
  clientId: string;
  clientSecret: string;
  /** Default: `<issuer origin>/oauth/introspect`. */
  endpoint?: string;
}

export interface VerifierOptions {
  issuer: string;
  resource: string;
  jwksUri: string;
  fetch: typeof fetch;
  /** After a fetch, an unknown kid triggers another JWKS fetch only after this long. */
  jwksCooldownSeconds: number;
  clockToleranceSeconds: number;
  introspection: (IntrospectionCredentials & { endpoint: string }) | undefined;
}

/** Longer than any token we mint; refused before any parsing. */
const MAX_TOKEN_LENGTH = 8192;

function describeJoseError(e: unknown): string | undefined {
  if (e instanceof errors.JWTExpired) return "the access token has expired";
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "aud") return "the access token is for another resource (aud)";
    if (e.claim === "iss") return "the access token was issued by another authorization server (iss)";
    if (e.claim === "typ") return "this is not an access token (typ must be at+jwt, RFC 9068 §2.1)";
    return `the access token's ${e.claim} claim is invalid`;
  }
  if (e instanceof errors.JOSEAlgNotAllowed) return "the access token's signing algorithm is not accepted";
  if (e instanceof errors.JWKSNoMatchingKey) return "the access token's signing key is not published";
  if (e instanceof errors.JWSSignatureVerificationFailed) return "the access token's signature is invalid";
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid) return "the access token is malformed";
  return undefined;
}

function boundKey(claims: JWTPayload): string | undefined {
  const cnf = claims.cnf as { jkt?: unknown } | undefined;
  return typeof cnf?.jkt === "string" ? cnf.jkt : undefined;
}

function basic(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: each part form-urlencoded before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, "+");
  return `Basic ${btoa(`${enc(clientId)}:${enc(secret)}`)}`;
}

async function introspect(o: VerifierOptions, token: string): Promise<{ active: boolean; scope?: string }> {
  const creds = o.introspection!;
  const res = await o.fetch(creds.endpoint, {
    method: "POST",
    headers: {
      Authorization: basic(creds.clientId, creds.clientSecret),
      "Content-Type": "application/x-www-form-urlencoded",
      Accept: "application/json",
    },
    body: new URLSearchParams({ token, token_type_hint: "access_token" }),
    signal: AbortSignal.timeout(5000),
  });
  if (res.status !== 200) throw new Error(`introspection answered HTTP ${res.status}`);
  return (await res.json()) as { active: boolean; scope?: string };
}

/** A verifier with its JWKS cache (one per resource server, kept for the isolate's lifetime). */
export function accessTokenVerifier(o: VerifierOptions): (token: string) => Promise<Verification> {
  // jose caches the key set (10 minutes), picks keys by kid, and refetches when a token names an
  // unknown kid (a rotation: edge-oidc publishes a new key when it starts signing with it), at most
  // once per cooldown; concurrent misses share one fetch.
  const jwks = createRemoteJWKSet(new URL(o.jwksUri), {
    cooldownDuration: o.jwksCooldownSeconds * 1000,
    cacheMaxAge: 10 * 60_000,
    [customFetch]: (url, init) => o.fetch(url, init),
  });
  return async (token) => {
    if (token.length > MAX_TOKEN_LENGTH) return { invalid: "the access token is too long" };
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks, {
        issuer: o.issuer,
        audience: o.resource,
        typ: "at+jwt",
        algorithms: ["ES256"], // what edge-oidc signs access tokens with; never "none", never HMAC
        requiredClaims: ["sub", "exp", "iat", "jti", "client_id", "scope"],
        clockTolerance: o.clockToleranceSeconds,
      }));
    } catch (e) {
      const why = describeJoseError(e);
      if (why) return { invalid: why };
      // The JWKS could not be fetched: our problem, not the token's (a 401 would send the client
      // back through authorization for nothing).
      return { unavailable: "the authorization server's keys could not be loaded" };
    }
    let scope = typeof claims.scope === "string" ? claims.scope : "";
    if (o.introspection) {
      try {
        const status = await introspect(o, token);
        if (!status.active) return { invalid: "the access token has been revoked" };
        scope = status.scope ?? "";
      } catch {
        return { unavailable: "the authorization server could not be asked whether the token is live" };
      }
    }
    return {
      token: {
        sub: claims.sub as string,
        clientId: claims.client_id as string,
        scopes: scope.split(" ").filter(Boolean),
        teamId: typeof claims.team_id === "string" ? claims.team_id : undefined,
        jti: claims.jti as string,
        exp: claims.exp as number,
        jkt: boundKey(claims),
        claims,
      },
    };
  };
}
