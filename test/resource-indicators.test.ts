/**
 * Resource indicators (RFC 8707) on authorize, token and refresh: the resource becomes the access
 * token's aud (§2, RFC 9068 §3); a token request may repeat it but not change it (§2.2); an
 * operator allow-list refuses anything else with invalid_target (§2); without one any https
 * resource is accepted (CONTRACT.md "MCP clients").
 */
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/config";
import { ORIGIN } from "./helpers";
import { callWith } from "./metadata-documents/publish";
import { createTestClient, pkcePair, sessionCookie, type TestClient } from "./oauth-helpers";

const MCP = "https://mcp.example.com/mcp";
const OTHER = "https://other.example.com/api";

const open: Env = { ...env };
const listed: Env = { ...env, RESOURCE_ALLOW_LIST: `${MCP} https://api.example.com` };

/** /oauth/authorize for a signed-in admin; the client skips consent. Returns the redirect Location. */
async function authorize(bindings: Env, client: TestClient, extra: Record<string, string>) {
  const { verifier, challenge } = await pkcePair();
  const q = new URLSearchParams({
    response_type: "code",
    client_id: client.id,
    redirect_uri: client.redirectUri,
    scope: "ir.incidents:read",
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "st",
    ...extra,
  });
  const res = await callWith(bindings, `/oauth/authorize?${q}`, {
    redirect: "manual",
    headers: { Cookie: await sessionCookie("usr_demo_admin") },
  });
  expect(res.status).toBe(302);
  return { location: new URL(res.headers.get("location")!), verifier };
}

function token(bindings: Env, client: TestClient, params: Record<string, string>) {
  return callWith(bindings, "/oauth/token", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: client.id, ...params }),
  });
}

async function grant(bindings: Env, resource?: string) {
  const client = await createTestClient();
  const { location, verifier } = await authorize(bindings, client, resource ? { resource } : {});
  const code = location.searchParams.get("code");
  expect(code, location.href).toBeTruthy();
  return { client, code: code!, verifier };
}

async function tokens(res: Response) {
  const body = (await res.json()) as { access_token: string; refresh_token: string; error?: string };
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body;
}

async function expectInvalidTarget(res: Response) {
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe("invalid_target");
}

describe("resource binds aud (RFC 8707 §2, RFC 9068 §3)", () => {
  it("the access token's aud is the resource asked for at authorization", async () => {
    const { client, code, verifier } = await grant(open, MCP);
    const t = await tokens(
      await token(open, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: client.redirectUri,
      }),
    );
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
  });

  it("without resource, aud is the configured default audience (the issuer here)", async () => {
    const { client, code, verifier } = await grant(open);
    const t = await tokens(
      await token(open, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: client.redirectUri,
      }),
    );
    expect(decodeJwt(t.access_token).aud).toBe(ORIGIN);
  });

  it("the token request may repeat the resource, not change it (§2.2)", async () => {
    const a = await grant(open, MCP);
    const base = { grant_type: "authorization_code", redirect_uri: a.client.redirectUri, code_verifier: a.verifier };
    await expectInvalidTarget(await token(open, a.client, { ...base, code: a.code, resource: OTHER }));
    const b = await grant(open, MCP);
    const same = await tokens(
      await token(open, b.client, { ...base, code: b.code, code_verifier: b.verifier, resource: MCP }),
    );
    expect(decodeJwt(same.access_token).aud).toBe(MCP);
  });

  it("refresh keeps the audience; the same resource works, a different one is invalid_target", async () => {
    const { client, code, verifier } = await grant(open, MCP);
    const first = await tokens(
      await token(open, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: client.redirectUri,
      }),
    );
    const plain = await tokens(
      await token(open, client, { grant_type: "refresh_token", refresh_token: first.refresh_token }),
    );
    expect(decodeJwt(plain.access_token).aud).toBe(MCP);
    const same = await tokens(
      await token(open, client, { grant_type: "refresh_token", refresh_token: plain.refresh_token, resource: MCP }),
    );
    expect(decodeJwt(same.access_token).aud).toBe(MCP);
    await expectInvalidTarget(
      await token(open, client, { grant_type: "refresh_token", refresh_token: same.refresh_token, resource: OTHER }),
    );
  });

  it("without an allow-list any https resource is accepted; other forms are invalid_target (§2)", async () => {
    const accepted = await grant(open, "https://anything.example.net/v1?tenant=1");
    expect(accepted.code).toBeTruthy();
    const client = await createTestClient();
    for (const bad of [
      "http://api.example.com/mcp",
      "relative/path",
      "https://api.example.com/mcp#frag",
      "urn:example:thing",
    ]) {
      const { location } = await authorize(open, client, { resource: bad });
      expect(location.searchParams.get("error"), bad).toBe("invalid_target");
      expect(location.searchParams.get("state")).toBe("st");
      expect(location.searchParams.get("iss")).toBe(ORIGIN); // RFC 9207
    }
  });
});

describe("an operator allow-list (RESOURCE_ALLOW_LIST)", () => {
  it("accepts listed resources and the default audience", async () => {
    const { client, code, verifier } = await grant(listed, MCP);
    const t = await tokens(
      await token(listed, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: client.redirectUri,
      }),
    );
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
    expect((await grant(listed)).code).toBeTruthy();
  });

  it("refuses any other resource at authorization with invalid_target (§2)", async () => {
    const client = await createTestClient();
    for (const other of [OTHER, `${MCP}/`, "https://api.example.com/v2", "https://API.example.com.evil/"]) {
      const { location } = await authorize(listed, client, { resource: other });
      expect(location.searchParams.get("error"), other).toBe("invalid_target");
      expect(location.searchParams.get("code")).toBeNull();
    }
  });

  it("a listed origin matches with or without the trailing slash URL.href adds; aud is the listed spelling", async () => {
    const { client, code, verifier } = await grant(listed, "https://api.example.com/");
    const t = await tokens(
      await token(listed, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: client.redirectUri,
      }),
    );
    expect(decodeJwt(t.access_token).aud).toBe("https://api.example.com");
  });

  it("refuses an unlisted resource at the token endpoint too", async () => {
    const { client, code, verifier } = await grant(listed, MCP);
    await expectInvalidTarget(
      await token(listed, client, {
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        redirect_uri: client.redirectUri,
        resource: OTHER,
      }),
    );
  });
});
