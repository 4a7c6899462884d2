/**
 * private_key_jwt client authentication (RFC 7523 §2.2 and §3, OIDC Core §9): registration with
 * jwks or jwks_uri (RFC 7591 §2), admin-created apps, metadata-document clients, and the assertion
 * rules at the token, introspection and revocation endpoints — iss = sub = client_id, aud, a short
 * exp, single-use jti, keys by kid with a rotating jwks_uri.
 */
import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { CLIENT_ASSERTION_TYPE } from "../src/oauth/client-assertion";
import { call, callWith, ORIGIN } from "./helpers";
import { DOCUMENT_ORIGIN, freshPath, hits, loopbackEnv, publish } from "./metadata-documents/publish";
import { DEMO } from "./oauth-helpers";

const ADMIN_TOKEN = "test-admin-token-0123456789abcdefghijklmnop";
const TOKEN_ENDPOINT = `${ORIGIN}/oauth/token`;

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signingKey(kid: string, alg: "ES256" | "EdDSA" = "ES256"): Promise<SigningKey> {
  const pair = await generateKeyPair(alg === "EdDSA" ? "Ed25519" : alg, { extractable: true });
  return { kid, privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, use: "sig" } };
}

interface AssertionOptions {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  jti?: string;
  alg?: string;
  kid?: string;
}

function assertion(key: SigningKey, clientId: string, o: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: o.alg ?? (key.publicJwk.kty === "OKP" ? "EdDSA" : "ES256"), kid: o.kid ?? key.kid })
    .setIssuer(o.iss ?? clientId)
    .setSubject(o.sub ?? clientId)
    .setAudience(o.aud ?? ORIGIN)
    .setIssuedAt(now)
    .setExpirationTime(o.exp ?? now + 60)
    .setJti(o.jti ?? crypto.randomUUID())
    .sign(key.privateKey);
}

const bindings = { ...env, ALLOW_LOOPBACK_METADATA_DOCUMENTS: "true" };

function operator(body: Record<string, unknown>) {
  return callWith(loopbackEnv, "/api/admin/apps", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      team_id: DEMO.team,
      name: "Key bot",
      type: "client_credentials",
      scope: "ir.incidents:read",
      ...body,
    }),
  });
}

async function keyApp(keys: Record<string, unknown>): Promise<string> {
  const res = await operator({ token_endpoint_auth_method: "private_key_jwt", ...keys });
  expect(res.status, await res.clone().text()).toBe(201);
  const app = (await res.json()) as Record<string, unknown>;
  expect(app.client_secret).toBeUndefined();
  return app.client_id as string;
}

function post(path: string, params: Record<string, string>) {
  return callWith(bindings, path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
}

const withAssertion = (jwt: string, extra: Record<string, string> = {}) => ({
  client_assertion_type: CLIENT_ASSERTION_TYPE,
  client_assertion: jwt,
  ...extra,
});
const clientCredentials = (jwt: string) =>
  post("/oauth/token", withAssertion(jwt, { grant_type: "client_credentials" }));

async function expectInvalidClient(res: Response, pattern: RegExp) {
  expect(res.status).toBe(401);
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body.error).toBe("invalid_client");
  expect(body.error_description).toMatch(pattern);
}

describe("assertions at the token endpoint (RFC 7523 §3)", () => {
  it("authenticates an admin-created app with a JWT signed by its registered key (jwks by value)", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    const res = await clientCredentials(await assertion(key, clientId));
    expect(res.status, await res.clone().text()).toBe(200);
    // client_id may be sent too (RFC 7523 §3), and the token endpoint URL is a valid aud.
    const withId = await post(
      "/oauth/token",
      withAssertion(await assertion(key, clientId, { aud: TOKEN_ENDPOINT }), {
        grant_type: "client_credentials",
        client_id: clientId,
      }),
    );
    expect(withId.status, await withId.clone().text()).toBe(200);
  });

  it("accepts EdDSA keys", async () => {
    const key = await signingKey("ed", "EdDSA");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    expect((await clientCredentials(await assertion(key, clientId))).status).toBe(200);
  });

  it("refuses a replayed assertion: jti is single use (§3 point 7)", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    const jwt = await assertion(key, clientId);
    expect((await clientCredentials(jwt)).status).toBe(200);
    await expectInvalidClient(await clientCredentials(jwt), /already used/);
  });

  it("20 concurrent requests with one assertion: exactly one authenticates (atomic jti check)", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    const jwt = await assertion(key, clientId);
    const answers = await Promise.all(Array.from({ length: 20 }, () => clientCredentials(jwt)));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 401)).toHaveLength(19);
  });

  it("refuses an assertion for another audience (§3 point 3)", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    await expectInvalidClient(
      await clientCredentials(await assertion(key, clientId, { aud: "https://other.example" })),
      /aud/,
    );
  });

  it("refuses an expired assertion, and one whose exp is far ahead (§3 point 4)", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    const now = Math.floor(Date.now() / 1000);
    await expectInvalidClient(await clientCredentials(await assertion(key, clientId, { exp: now - 60 })), /expired/);
    await expectInvalidClient(await clientCredentials(await assertion(key, clientId, { exp: now + 3600 })), /exp/);
  });

  it("refuses iss or sub other than the client_id (§3 points 1, 2)", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    await expectInvalidClient(
      await post("/oauth/token", {
        ...withAssertion(await assertion(key, clientId, { iss: "someone-else" })),
        grant_type: "client_credentials",
        client_id: clientId,
      }),
      /iss and sub/,
    );
  });

  it("refuses a key the client never registered: unknown kid, or the right kid with another key", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    await expectInvalidClient(await clientCredentials(await assertion(key, clientId, { kid: "nope" })), /kid/);
    const impostor = await signingKey("k1");
    await expectInvalidClient(await clientCredentials(await assertion(impostor, clientId)), /signature/);
  });

  it("refuses a secret for a private_key_jwt client, and an assertion for a secret client", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    await expectInvalidClient(
      await post("/oauth/token", { grant_type: "client_credentials", client_id: clientId, client_secret: "x" }),
      /private_key_jwt/,
    );
    const secretApp = (await (await operator({})).json()) as { client_id: string };
    await expectInvalidClient(
      await clientCredentials(await assertion(key, secretApp.client_id)),
      /client_secret_basic/,
    );
  });
});

describe("introspection and revocation with private_key_jwt (RFC 7662 §2.1, RFC 7009 §2.1)", () => {
  it("authenticates there too, each assertion once", async () => {
    const key = await signingKey("k1");
    const clientId = await keyApp({ jwks: { keys: [key.publicJwk] } });
    const token = ((await (await clientCredentials(await assertion(key, clientId))).json()) as { access_token: string })
      .access_token;
    const introspection = await post("/oauth/introspect", withAssertion(await assertion(key, clientId), { token }));
    expect(introspection.status).toBe(200);
    expect(await introspection.json()).toMatchObject({ active: true, client_id: clientId });
    const jwt = await assertion(key, clientId);
    expect((await post("/oauth/revoke", withAssertion(jwt, { token }))).status).toBe(200);
    await expectInvalidClient(await post("/oauth/revoke", withAssertion(jwt, { token })), /already used/);
    const after = await post("/oauth/introspect", withAssertion(await assertion(key, clientId), { token }));
    expect(await after.json()).toEqual({ active: false });
  });
});

describe("jwks_uri (RFC 7591 §2): fetched under the SSRF rules, cached, rotation-safe by kid", () => {
  it("picks up a rotated key with one refetch, and refetches for unknown kids at most once a minute", async () => {
    const a = await signingKey("a");
    const b = await signingKey("b");
    const path = freshPath("jwks");
    const jwksUri = await publish({
      path,
      body: JSON.stringify({ keys: [a.publicJwk] }),
      headers: { "Cache-Control": "max-age=3600" },
    });
    const clientId = await keyApp({ jwks_uri: jwksUri });
    expect((await clientCredentials(await assertion(a, clientId))).status).toBe(200);
    expect((await clientCredentials(await assertion(a, clientId))).status).toBe(200);
    expect((await hits(jwksUri)).hits).toBe(1); // cached

    // The client rotates: its JWKS now holds b, and it signs with b.
    await publish({
      path,
      body: JSON.stringify({ keys: [b.publicJwk] }),
      headers: { "Cache-Control": "max-age=3600" },
    });
    const rotated = await clientCredentials(await assertion(b, clientId));
    expect(rotated.status, await rotated.clone().text()).toBe(200);
    expect((await hits(jwksUri)).hits).toBe(1); // publish() resets the count: exactly one refetch

    // A forged kid right after: refused without another fetch.
    const c = await signingKey("c");
    await expectInvalidClient(await clientCredentials(await assertion(c, clientId)), /kid/);
    expect((await hits(jwksUri)).hits).toBe(1);
  });

  it("a failing jwks_uri gives one error text and is not fetched again for a minute (client-fetch.ts)", async () => {
    const key = await signingKey("f");
    const path = freshPath("jwks-failing");
    const jwksUri = await publish({ path, status: 500, body: "{}" });
    const clientId = await keyApp({ jwks_uri: jwksUri });
    // Every fetch failure looks the same to the caller (no status or port oracle); the reason is logged.
    await expectInvalidClient(
      await clientCredentials(await assertion(key, clientId)),
      /^the JWKS could not be fetched$/,
    );
    expect((await hits(jwksUri)).hits).toBe(1);
    // The keys are published now, but the failure is remembered: no second fetch within 60 s.
    await publish({ path, body: JSON.stringify({ keys: [key.publicJwk] }) });
    await expectInvalidClient(await clientCredentials(await assertion(key, clientId)), /could not be fetched/);
    expect((await hits(jwksUri)).hits).toBe(0); // publish() reset the count
  });

  it("refuses a jwks_uri that names a port (only https's own port is fetched)", async () => {
    const res = await callWith(env, "/api/admin/apps", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        team_id: DEMO.team,
        name: "Bad port",
        type: "client_credentials",
        scope: "ir.incidents:read",
        token_endpoint_auth_method: "private_key_jwt",
        jwks_uri: "https://keys.example.com:8443/jwks.json",
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: "invalid_client_metadata",
      error_description: expect.stringMatching(/must not name a port/),
    });
  });

  it("refuses a jwks_uri on a private address at creation, before any fetch", async () => {
    const res = await callWith(env, "/api/admin/apps", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        team_id: DEMO.team,
        name: "Bad",
        type: "confidential",
        redirect_uris: ["https://app.example/cb"],
        token_endpoint_auth_method: "private_key_jwt",
        jwks_uri: "https://10.0.0.1/jwks.json",
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_client_metadata" });
  });
});

describe("registration (RFC 7591 §2) and metadata documents", () => {
  const register = (body: Record<string, unknown>) =>
    call("/oauth/register", {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "CF-Connecting-IP": `198.51.100.${Math.floor(Math.random() * 200)}`,
      },
      body: JSON.stringify({ redirect_uris: ["https://app.example/cb"], ...body }),
    });

  it("registers a private_key_jwt client with jwks: no secret is issued, the keys are returned", async () => {
    const key = await signingKey("r1");
    const res = await register({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] } });
    expect(res.status, await res.clone().text()).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body.client_secret).toBeUndefined();
    expect(body).toMatchObject({ token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [key.publicJwk] } });
  });

  it("refuses private_key_jwt without keys, jwks together with jwks_uri, and private keys", async () => {
    const key = await signingKey("r1");
    const privateJwk = await exportJWK(key.privateKey);
    for (const body of [
      { token_endpoint_auth_method: "private_key_jwt" },
      {
        token_endpoint_auth_method: "private_key_jwt",
        jwks: { keys: [key.publicJwk] },
        jwks_uri: "https://a.example/j",
      },
      { token_endpoint_auth_method: "private_key_jwt", jwks: { keys: [privateJwk] } },
    ]) {
      const res = await register(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_client_metadata");
    }
  });

  it("lets a metadata-document client declare private_key_jwt with a jwks_uri, and authenticate with it", async () => {
    const key = await signingKey("doc");
    const jwksUri = await publish({ path: freshPath("doc-jwks"), body: JSON.stringify({ keys: [key.publicJwk] }) });
    const path = freshPath("pkjwt-doc");
    const clientId = `${DOCUMENT_ORIGIN}${path}`;
    await publish({
      path,
      body: JSON.stringify({
        client_id: clientId,
        client_name: "Keyed MCP client",
        redirect_uris: ["http://127.0.0.1/callback"],
        token_endpoint_auth_method: "private_key_jwt",
        jwks_uri: jwksUri,
      }),
    });
    const ok = await post("/oauth/introspect", withAssertion(await assertion(key, clientId), { token: "x" }));
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect(await ok.json()).toEqual({ active: false });
    const forged = await signingKey("doc");
    await expectInvalidClient(
      await post("/oauth/introspect", withAssertion(await assertion(forged, clientId), { token: "x" })),
      /signature/,
    );
  });
});

describe("metadata (RFC 8414 §2)", () => {
  it("advertises private_key_jwt and its signing algorithms", async () => {
    const md = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, string[]>;
    expect(md.token_endpoint_auth_methods_supported).toContain("private_key_jwt");
    expect(md.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining(["ES256", "EdDSA", "RS256"]),
    );
    expect(md.token_endpoint_auth_signing_alg_values_supported).not.toContain("HS256");
  });
});
