import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import { ALL_SCOPES } from "../src/oauth/scopes";
import { call, ORIGIN } from "./helpers";

const REQUIRED_ENDPOINTS = {
  authorization_endpoint: "/oauth/authorize",
  token_endpoint: "/oauth/token",
  jwks_uri: "/oauth/discovery/keys",
  registration_endpoint: "/oauth/register",
  introspection_endpoint: "/oauth/introspect",
  revocation_endpoint: "/oauth/revoke",
  userinfo_endpoint: "/oauth/userinfo",
};

async function json(path: string) {
  const res = await call(path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  return (await res.json()) as Record<string, unknown>;
}

describe("authorization server metadata (RFC 8414 §2, §3)", () => {
  it("lists every endpoint, with the configured issuer byte for byte (RFC 8414 §3.3)", async () => {
    const md = await json("/.well-known/oauth-authorization-server");
    expect(md.issuer).toBe(ORIGIN);
    for (const [field, path] of Object.entries(REQUIRED_ENDPOINTS)) expect(md[field]).toBe(`${ORIGIN}${path}`);
  });

  it("advertises exactly what the server does (RFC 8414 §2, RFC 9207 §3, RFC 7636)", async () => {
    const md = await json("/.well-known/oauth-authorization-server");
    expect(md.response_types_supported).toEqual(["code"]);
    expect(md.code_challenge_methods_supported).toEqual(["S256"]);
    expect(md.grant_types_supported).toEqual([
      "authorization_code",
      "refresh_token",
      "client_credentials",
      "urn:ietf:params:oauth:grant-type:device_code", // RFC 8628 §4
    ]);
    expect(md.token_endpoint_auth_methods_supported).toEqual([
      "client_secret_basic",
      "client_secret_post",
      "private_key_jwt",
      "none",
    ]);
    expect(md.authorization_response_iss_parameter_supported).toBe(true);
    expect(md.client_id_metadata_document_supported).toBe(true);
    expect(md.scopes_supported).toEqual(ALL_SCOPES);
    expect(md.scopes_supported).toContain("offline_access");
    expect(md.response_types_supported).not.toContain("token"); // OAuth 2.1: no implicit grant
  });

  it("answers CORS for browser and MCP clients", async () => {
    const res = await call("/.well-known/oauth-authorization-server", { headers: { Origin: "https://app.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    const pre = await call("/.well-known/oauth-authorization-server", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toContain("GET");
  });

  it("ignores the Host header: the issuer comes from configuration only", async () => {
    const res = await call("/.well-known/oauth-authorization-server", { headers: { Host: "evil.example" } });
    expect(((await res.json()) as { issuer: string }).issuer).toBe(ORIGIN);
  });
});

describe("OpenID Connect Discovery 1.0 §3", () => {
  it("has the REQUIRED fields and the same issuer as the OAuth document", async () => {
    const oidc = await json("/.well-known/openid-configuration");
    const oauth = await json("/.well-known/oauth-authorization-server");
    expect(oidc.issuer).toBe(oauth.issuer);
    for (const field of ["authorization_endpoint", "token_endpoint", "jwks_uri", "response_types_supported"]) {
      expect(oidc[field]).toEqual(oauth[field]);
    }
    expect(oidc.subject_types_supported).toEqual(["public"]);
    expect(oidc.id_token_signing_alg_values_supported).toContain("RS256"); // §3: RS256 MUST be included
    expect(oidc.userinfo_endpoint).toBe(`${ORIGIN}/oauth/userinfo`);
    expect(oidc.scopes_supported).toContain("openid"); // §3: SHOULD include openid
    expect(oidc.claims_supported).toEqual(expect.arrayContaining(["sub", "email", "name", "team_id", "role"]));
  });
});

describe("issuer with a path", () => {
  const tenantEnv = { ...env, ISSUER: "https://auth.example.com/tenant", KEY_ENCRYPTION_SECRET: "x".repeat(40) };
  const get = (path: string) => app.fetch(new Request(`https://auth.example.com${path}`), tenantEnv);

  it("serves the root, path-inserted (RFC 8414 §3.1) and path-appended (OIDC Discovery §4.1) forms", async () => {
    for (const path of [
      "/.well-known/oauth-authorization-server",
      "/.well-known/oauth-authorization-server/tenant",
      "/tenant/.well-known/oauth-authorization-server",
      "/.well-known/openid-configuration",
      "/.well-known/openid-configuration/tenant",
      "/tenant/.well-known/openid-configuration",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(200);
      expect(((await res.json()) as { issuer: string }).issuer).toBe("https://auth.example.com/tenant");
    }
  });

  it("does not serve documents for another path", async () => {
    expect((await get("/.well-known/oauth-authorization-server/other")).status).toBe(404);
    expect((await get("/other/.well-known/openid-configuration")).status).toBe(404);
  });
});
