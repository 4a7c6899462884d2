/**
 * edge-oidc/resource-server: protect an API or MCP server on Workers with edge-oidc access tokens.
 *
 *   const rs = resourceServer({ issuer: "https://auth.example.com", resource: "https://mcp.example.com/mcp",
 *                               scopesSupported: ["ir.incidents:read"] });
 *   app.route("/", rs.wellKnown);                                 // RFC 9728 metadata
 *   app.use("/mcp", rs.authenticate({ scopes: ["ir.incidents:read"] }));
 *   app.post("/mcp", (c) => c.json(c.get("accessToken")));      // sub, clientId, scopes, …
 *
 * Tokens are validated locally with the JWKS (cached, kid-aware, rotation-safe). A missing or
 * invalid token gets 401 with `WWW-Authenticate: Bearer resource_metadata="…"` (RFC 9728 §5.1), so
 * MCP clients find the authorization server; a token without the required scopes gets 403
 * insufficient_scope naming the required and the held scopes. Local validation does not see a
 * revocation until the token expires; pass `introspection` to ask the authorization server on every
 * request instead (see verify.ts for the trade-off).
 *
 * DPoP (RFC 9449 §7): a token bound to a key (`cnf.jkt`) is accepted only as `Authorization: DPoP`
 * with a proof signed by that key (dpop.ts); presented as a bearer token it gets 401 with a
 * `WWW-Authenticate: DPoP algs="…"` challenge. With `dpop: { required: true }` unbound tokens are
 * refused too.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { dpopUnauthorized, insufficientScope, unauthorized } from "./challenge";
import { checkResourceProof, DPOP_SIGNING_ALGS, type DpopReplayCheck, isolateReplayCheck } from "./dpop";
import { metadataPaths, metadataUrl, protectedResourceMetadata } from "./metadata";
import { accessTokenVerifier, type IntrospectionCredentials, type VerifiedAccessToken } from "./verify";

export { bearerChallenge, dpopChallenge } from "./challenge";
export type { DpopReplayCheck } from "./dpop";
export { metadataUrl, protectedResourceMetadata } from "./metadata";
export type { IntrospectionCredentials, VerifiedAccessToken } from "./verify";

export interface ResourceServerOptions {
  /** The authorization server's issuer, exactly as its metadata says (tokens' `iss`). */
  issuer: string;
  /** This resource's identifier: the `resource` clients ask for, and the `aud` tokens must carry. */
  resource: string;
  /** Published as scopes_supported; MCP clients ask for these when they authorize. */
  scopesSupported?: string[];
  resourceName?: string;
  resourceDocumentation?: string;
  /** Default: `<issuer origin>/oauth/discovery/keys` (edge-oidc's JWKS path). */
  jwksUri?: string;
  /**
   * How to reach the authorization server, e.g. a service binding's `fetch` when both run on
   * Workers in one account (no public round trip). Default: the global fetch.
   */
  fetch?: typeof fetch;
  /**
   * Minimum time between JWKS refetches caused by an unknown kid. Default 0: the first token signed
   * with a freshly rotated key is accepted at once. A forged kid costs one JWKS request to the
   * authorization server — no more than the forged request itself — so there is no amplification.
   */
  jwksCooldownSeconds?: number;
  /** Allowed clock skew for exp. Default 0 (the authorization server and Workers share UTC time). */
  clockToleranceSeconds?: number;
  /** Ask /oauth/introspect on every request: revocations and role changes count at once. Off by default. */
  introspection?: IntrospectionCredentials;
  /**
   * DPoP (RFC 9449). Bound tokens always need their proof. `required`: refuse unbound (bearer)
   * tokens as well, and say so in the metadata (`dpop_bound_access_tokens_required`). `replay`: an
   * exact, global jti check (default: per isolate, see dpop.ts).
   */
  dpop?: { required?: boolean; replay?: DpopReplayCheck };
}

/** Hono variables set by `authenticate`: `c.get("accessToken")`. */
export interface ResourceServerVariables {
  accessToken: VerifiedAccessToken;
}

export interface ResourceServer {
  /** Where the RFC 9728 document lives (the value of resource_metadata in challenges). */
  metadataUrl: string;
  metadata: Record<string, unknown>;
  /** Serves the metadata at its RFC 9728 §3.1 path and at the root well-known path; mount with app.route("/", …). */
  wellKnown: Hono;
  /** Requires a valid access token for this resource holding every scope in `scopes`. */
  authenticate(options?: { scopes?: string[] }): MiddlewareHandler<{ Variables: ResourceServerVariables }>;
}

/**
 * RFC 6750 §2.1 `Authorization: Bearer <b64token>` or RFC 9449 §7.1 `Authorization: DPoP <b64token>`;
 * the only place a token is read from.
 */
function presentedToken(header: string | undefined): { token: string; dpop: boolean } | undefined | null {
  if (header === undefined || header === "") return undefined;
  const match = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match ? { token: match[2] as string, dpop: (match[1] as string).toLowerCase() === "dpop" } : null;
}

export function resourceServer(options: ResourceServerOptions): ResourceServer {
  const issuerOrigin = new URL(options.issuer).origin;
  const fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  const verify = accessTokenVerifier({
    issuer: options.issuer,
    resource: options.resource,
    jwksUri: options.jwksUri ?? `${issuerOrigin}/oauth/discovery/keys`,
    fetch: fetchImpl,
    jwksCooldownSeconds: options.jwksCooldownSeconds ?? 0,
    clockToleranceSeconds: options.clockToleranceSeconds ?? 0,
    introspection: options.introspection && {
      ...options.introspection,
      endpoint: options.introspection.endpoint ?? `${issuerOrigin}/oauth/introspect`,
    },
  });
  const documentUrl = metadataUrl(options.resource);
  const resourceOrigin = new URL(options.resource).origin;
  const dpopRequired = options.dpop?.required ?? false;
  const replay = options.dpop?.replay ?? isolateReplayCheck();
  const dpopRefusal = (code: "invalid_token" | "invalid_dpop_proof", description: string) =>
    dpopUnauthorized(documentUrl, DPOP_SIGNING_ALGS, code, description);
  const metadata = protectedResourceMetadata({
    resource: options.resource,
    authorizationServers: [options.issuer],
    scopesSupported: options.scopesSupported,
    resourceName: options.resourceName,
    resourceDocumentation: options.resourceDocumentation,
    dpopSigningAlgs: [...DPOP_SIGNING_ALGS],
    dpopBoundAccessTokensRequired: dpopRequired,
  });

  const wellKnown = new Hono();
  for (const path of metadataPaths(options.resource)) {
    // Public and read by browser-based clients too: CORS for any origin, cacheable for a while.
    wellKnown.on(["GET", "OPTIONS"], path, (c) => {
      c.header("Access-Control-Allow-Origin", "*");
      if (c.req.method === "OPTIONS") {
        c.header("Access-Control-Allow-Methods", "GET, OPTIONS");
        c.header("Access-Control-Allow-Headers", "*");
        return c.body(null, 204);
      }
      c.header("Cache-Control", "public, max-age=3600");
      return c.json(metadata);
    });
  }

  return {
    metadataUrl: documentUrl,
    metadata,
    wellKnown,
    authenticate({ scopes = [] } = {}) {
      return async (c, next) => {
        const presented = presentedToken(c.req.header("Authorization"));
        if (presented === undefined) return unauthorized(documentUrl);
        if (presented === null) return unauthorized(documentUrl, "the Authorization header must be a Bearer token");
        const { token } = presented;
        if (!presented.dpop && dpopRequired) {
          return dpopRefusal("invalid_token", "this resource needs a DPoP-bound token and a proof (RFC 9449 §7.1)");
        }
        const result = await verify(token);
        if ("unavailable" in result) {
          return c.json({ error: "temporarily_unavailable", error_description: result.unavailable }, 503, {
            "Retry-After": "5",
          });
        }
        if ("invalid" in result) {
          return presented.dpop
            ? dpopRefusal("invalid_token", result.invalid)
            : unauthorized(documentUrl, result.invalid);
        }
        if (presented.dpop) {
          if (result.token.jkt === undefined)
            return dpopRefusal("invalid_token", "this token is not DPoP-bound: use Bearer");
          const checked = await checkResourceProof(
            c.req.header("DPoP"),
            { method: c.req.method, htu: `${resourceOrigin}${new URL(c.req.url).pathname}`, accessToken: token },
            replay,
          );
          if ("problem" in checked) return dpopRefusal("invalid_dpop_proof", checked.problem);
          if (checked.proof.jkt !== result.token.jkt) {
            return dpopRefusal("invalid_token", "the DPoP proof is signed by another key than the token is bound to");
          }
        } else if (result.token.jkt !== undefined) {
          // RFC 9449 §7.1: a bound token is worthless without its key, so never as a bearer token.
          return dpopRefusal("invalid_token", "this token is DPoP-bound: send it with the DPoP scheme and a proof");
        }
        if (!scopes.every((s) => result.token.scopes.includes(s))) {
          return insufficientScope(documentUrl, scopes, result.token.scopes);
        }
        c.set("accessToken", result.token);
        await next();
      };
    },
  };
}
