/**
 * The resource-server middleware (src/resource-server) against the real authorization server in
 * this workerd: tokens come from our own token endpoint (or our own minting code for an expired
 * one), and the middleware reaches the JWKS and introspection through the worker's fetch — the way
 * a service binding connects two Workers. RFC 6750 §3, RFC 9068 §4, RFC 9728 §2, §3.1, §5.1.
 */
import { env, exports } from "cloudflare:workers";
import { Hono } from "hono";
import { base64url, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { settingsOf } from "../src/config";
import { type ResourceServer, type ResourceServerVariables, resourceServer } from "../src/resource-server";
import { dbOf } from "../src/store/db";
import { mintAccessToken } from "../src/tokens/access-token";
import { keysetOf, rotateSigningKey } from "../src/tokens/signing-keys";
import { call, ORIGIN } from "./helpers";
import { createTestClient, DEMO, exchangeCode, obtainCode, type TestClient } from "./oauth-helpers";

const RESOURCE = "https://mcp.example.com/mcp";
const METADATA_URL = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";

let jwksFetches = 0;
/** The authorization server as the resource server reaches it (counting JWKS downloads). */
const authServer: typeof fetch = (input, init) => {
  const request = new Request(input, init);
  if (new URL(request.url).pathname === "/oauth/discovery/keys") jwksFetches += 1;
  return exports.default.fetch(request);
};

function protect(rs: ResourceServer, scopes?: string[]) {
  const app = new Hono<{ Variables: ResourceServerVariables }>();
  app.route("/", rs.wellKnown);
  app.use("/mcp", rs.authenticate({ scopes }));
  app.post("/mcp", (c) => c.json(c.get("accessToken")));
  return app;
}

const rs = resourceServer({
  issuer: ORIGIN,
  resource: RESOURCE,
  scopesSupported: ["ir.incidents:read", "ir.incidents:write"],
  fetch: authServer,
});
const app = protect(rs);

function present(target: Hono<{ Variables: ResourceServerVariables }>, token?: string, header?: string) {
  const authorization = header ?? (token ? `Bearer ${token}` : undefined);
  return target.request(RESOURCE, { method: "POST", headers: authorization ? { Authorization: authorization } : {} });
}

/** An access token from our token endpoint (authorization code + PKCE) for `resource`. */
async function issue(resource = RESOURCE, scope = "openid ir.incidents:read", client?: TestClient) {
  const c = client ?? (await createTestClient());
  const { code, verifier } = await obtainCode(c, DEMO.member, { resource, scope });
  const res = await exchangeCode(c, code, verifier);
  expect(res.status).toBe(200);
  return { client: c, ...((await res.json()) as { access_token: string; refresh_token: string; id_token: string }) };
}

async function expect401(res: Response, reason: RegExp) {
  expect(res.status).toBe(401);
  const challenge = res.headers.get("www-authenticate")!;
  expect(challenge).toMatch(/^Bearer /);
  expect(challenge).toContain('error="invalid_token"');
  expect(challenge).toContain(`resource_metadata="${METADATA_URL}"`); // RFC 9728 §5.1
  expect(((await res.json()) as { error_description: string }).error_description).toMatch(reason);
}

describe("protected resource metadata (RFC 9728)", () => {
  it("is served at the path-suffixed well-known URL (§3.1) and at the root form", async () => {
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"]) {
      const res = await app.request(`https://mcp.example.com${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(await res.json()).toEqual({
        resource: RESOURCE,
        authorization_servers: [ORIGIN],
        scopes_supported: ["ir.incidents:read", "ir.incidents:write"],
        bearer_methods_supported: ["header"],
        // RFC 9728 §2 / RFC 9449: the helper accepts DPoP-bound tokens with these proof algorithms.
        dpop_signing_alg_values_supported: ["ES256", "ES384", "EdDSA", "Ed25519", "RS256", "PS256"],
      });
    }
    expect(rs.metadataUrl).toBe(METADATA_URL);
  });

  it("a resource without a path has only the root form", async () => {
    const root = resourceServer({ issuer: ORIGIN, resource: "https://api.example.com", fetch: authServer });
    expect(root.metadataUrl).toBe("https://api.example.com/.well-known/oauth-protected-resource");
  });
});

describe("401 with resource_metadata (RFC 6750 §3, RFC 9728 §5.1)", () => {
  it("no token: a bare challenge pointing at the metadata, no error code (RFC 6750 §3.1)", async () => {
    const res = await present(app);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });

  it("not a Bearer header, or a malformed one", async () => {
    await expect401(await present(app, undefined, "Basic dXNlcjpwdw=="), /Bearer/);
    await expect401(await present(app, undefined, "Bearer a b"), /Bearer/);
  });

  it("accepts a live token for this resource and exposes sub, client and scopes", async () => {
    const { access_token, client } = await issue();
    const res = await present(app, access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      sub: DEMO.member,
      clientId: client.id,
      scopes: ["openid", "ir.incidents:read"],
      teamId: DEMO.team,
    });
  });

  it("wrong aud: a token minted for another resource (RFC 8707, RFC 9068 §4)", async () => {
    const { access_token } = await issue("https://other.example.com/mcp");
    await expect401(await present(app, access_token), /another resource/);
  });

  it("expired (RFC 9068 §4, exp)", async () => {
    const settings = settingsOf(env);
    const keyset = await keysetOf(dbOf(env.DB), settings);
    const old = Math.floor(Date.now() / 1000) - 2 * 3600;
    const { token } = await mintAccessToken(
      keyset,
      settings,
      { sub: DEMO.member, aud: RESOURCE, clientId: "c", scope: "ir.incidents:read", teamId: DEMO.team },
      old,
    );
    await expect401(await present(app, token), /expired/);
  });

  it("another issuer, even when signed with a published key (iss)", async () => {
    const settings = { ...settingsOf(env), issuer: "https://evil.example" };
    const keyset = await keysetOf(dbOf(env.DB), settingsOf(env));
    const { token } = await mintAccessToken(keyset, settings, {
      sub: DEMO.member,
      aud: RESOURCE,
      clientId: "c",
      scope: "ir.incidents:read",
      teamId: DEMO.team,
    });
    await expect401(await present(app, token), /another authorization server/);
  });

  it("alg none and an HMAC token are refused (RFC 8725 §3.1, §3.2)", async () => {
    const claims = {
      iss: ORIGIN,
      aud: RESOURCE,
      sub: DEMO.admin,
      client_id: "c",
      scope: "ir.incidents:read",
      jti: "j",
    };
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: unknown) => base64url.encode(JSON.stringify(v));
    const none = `${b64({ alg: "none", typ: "at+jwt" })}.${b64({ ...claims, iat: now, exp: now + 600 })}.`;
    await expect401(await present(app, none), /algorithm|malformed/);
    const hmac = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("a".repeat(32)));
    await expect401(await present(app, hmac), /algorithm/);
  });

  it("an ID token is not an access token (typ at+jwt, RFC 9068 §2.1)", async () => {
    const { id_token } = await issue();
    expect(id_token).toBeTruthy();
    const res = await present(app, id_token);
    expect(res.status).toBe(401);
  });

  it("503, not 401, when the authorization server's keys cannot be loaded", async () => {
    const broken = protect(
      resourceServer({ issuer: ORIGIN, resource: RESOURCE, jwksUri: `${ORIGIN}/no-such-keys`, fetch: authServer }),
    );
    const { access_token } = await issue();
    const res = await present(broken, access_token);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
  });
});

describe("scopes (RFC 6750 §3.1 insufficient_scope)", () => {
  it("403 naming the required and the held scopes, in the body and the challenge", async () => {
    const writer = protect(rs, ["ir.incidents:write"]);
    const { access_token } = await issue();
    const res = await present(writer, access_token);
    expect(res.status).toBe(403);
    const challenge = res.headers.get("www-authenticate")!;
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="ir.incidents:write"');
    expect(challenge).toContain(`resource_metadata="${METADATA_URL}"`);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      error: "insufficient_scope",
      required_scopes: ["ir.incidents:write"],
      held_scopes: ["openid", "ir.incidents:read"],
      missing_scopes: ["ir.incidents:write"],
    });
    expect(body.error_description).toBe(
      "this request needs ir.incidents:write; the token holds openid ir.incidents:read",
    );
    expect((await present(protect(rs, ["ir.incidents:read"]), access_token)).status).toBe(200);
  });
});

describe("JWKS: cached, kid-aware, rotation-safe", () => {
  it("downloads the key set once, then picks up a rotated key by its new kid", async () => {
    const fresh = protect(resourceServer({ issuer: ORIGIN, resource: RESOURCE, fetch: authServer }));
    jwksFetches = 0;
    const before = await issue();
    expect((await present(fresh, before.access_token)).status).toBe(200);
    expect((await present(fresh, before.access_token)).status).toBe(200);
    expect(jwksFetches).toBe(1); // cached

    await rotateSigningKey(dbOf(env.DB), settingsOf(env), "ES256");
    const after = await issue();
    expect(after.access_token.split(".")[0]).not.toBe(before.access_token.split(".")[0]); // another kid
    expect((await present(fresh, after.access_token)).status).toBe(200);
    expect(jwksFetches).toBe(2); // the unknown kid made it refetch once
    // The retired key stays published until its tokens expire, so older tokens keep working.
    expect((await present(fresh, before.access_token)).status).toBe(200);
  });
});

describe("revocation: local validation vs introspection (RFC 7009, RFC 7662)", () => {
  it("local validation accepts a revoked token until it expires; introspection refuses it at once", async () => {
    const introspector = await createTestClient({ method: "client_secret_basic" }); // same team
    const live = protect(
      resourceServer({
        issuer: ORIGIN,
        resource: RESOURCE,
        fetch: authServer,
        introspection: { clientId: introspector.id, clientSecret: introspector.secret! },
      }),
    );
    const { access_token, client } = await issue();
    const first = await present(live, access_token);
    expect(first.status, await first.clone().text()).toBe(200);
    const revoked = await call("/oauth/revoke", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ client_id: client.id, token: access_token }),
    });
    expect(revoked.status).toBe(200);
    await expect401(await present(live, access_token), /revoked/);
    expect((await present(app, access_token)).status).toBe(200); // the documented trade-off
  });
});
