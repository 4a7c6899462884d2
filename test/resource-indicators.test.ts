/**
 * Resource indicators (RFC 8707) on authorize, token and refresh: the resource becomes the access
 * token's aud (§2, RFC 9068 §3); a token request may repeat it but not change it (§2.2); an
 * operator allow-list refuses anything else with invalid_target (§2); without one any https
 * resource is accepted (README "MCP clients and resource servers"). UserInfo accepts only tokens
 * whose aud contains the issuer (RFC 9068 §4, OIDC Core §5.3).
 */
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { type Env, settingsOf } from "../src/config";
import { dbOf } from "../src/store/db";
import { mintAccessToken } from "../src/tokens/access-token";
import { keysetOf } from "../src/tokens/signing-keys";
import { callWith, ORIGIN } from "./helpers";
import {
  authorizeUrl,
  createTestClient,
  DEMO,
  exchangeCode,
  obtainCode,
  pkcePair,
  sessionCookie,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";

const MCP = "https://mcp.example.com/mcp";
const OTHER = "https://other.example.com/api";

const open: Env = { ...env };
const listed: Env = { ...env, RESOURCE_ALLOW_LIST: `${MCP} https://api.example.com` };

/** /oauth/authorize for a signed-in admin; the client skips consent. Returns the redirect Location. */
async function authorize(bindings: Env, client: TestClient, extra: Record<string, string>) {
  const { challenge } = await pkcePair();
  const res = await callWith(bindings, authorizeUrl(client, challenge, { scope: "ir.incidents:read", ...extra }), {
    redirect: "manual",
    headers: { Cookie: await sessionCookie(DEMO.admin) },
  });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location")!);
}

/** A code for a fresh client, authorized with `resource` (and `scope`, default ir.incidents:read). */
async function grant(bindings: Env, resource?: string, scope = "ir.incidents:read") {
  const client = await createTestClient();
  const { code, verifier } = await obtainCode(
    client,
    DEMO.admin,
    { scope, ...(resource ? { resource } : {}) },
    bindings,
  );
  return { client, code, verifier };
}

/** The code exchange of `grant`, with `extra` token parameters. */
function exchange(bindings: Env, g: Awaited<ReturnType<typeof grant>>, extra: Record<string, string> = {}) {
  return exchangeCode(g.client, g.code, g.verifier, extra, {}, bindings);
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

const refresh = (bindings: Env, client: TestClient, refreshToken: string, extra: Record<string, string> = {}) =>
  tokenRequest(client, { grant_type: "refresh_token", refresh_token: refreshToken, ...extra }, {}, bindings);

describe("resource binds aud (RFC 8707 §2, RFC 9068 §3)", () => {
  it("the access token's aud is the resource asked for at authorization", async () => {
    const t = await tokens(await exchange(open, await grant(open, MCP)));
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
  });

  it("without resource, aud is the configured default audience (the issuer here)", async () => {
    const t = await tokens(await exchange(open, await grant(open)));
    expect(decodeJwt(t.access_token).aud).toBe(ORIGIN);
  });

  it("the token request may repeat the resource, not change it (§2.2)", async () => {
    await expectInvalidTarget(await exchange(open, await grant(open, MCP), { resource: OTHER }));
    const same = await tokens(await exchange(open, await grant(open, MCP), { resource: MCP }));
    expect(decodeJwt(same.access_token).aud).toBe(MCP);
  });

  it("refresh keeps the audience; the same resource works, a different one is invalid_target", async () => {
    const g = await grant(open, MCP);
    const first = await tokens(await exchange(open, g));
    const plain = await tokens(await refresh(open, g.client, first.refresh_token));
    expect(decodeJwt(plain.access_token).aud).toBe(MCP);
    const same = await tokens(await refresh(open, g.client, plain.refresh_token, { resource: MCP }));
    expect(decodeJwt(same.access_token).aud).toBe(MCP);
    await expectInvalidTarget(await refresh(open, g.client, same.refresh_token, { resource: OTHER }));
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
      const location = await authorize(open, client, { resource: bad });
      expect(location.searchParams.get("error"), bad).toBe("invalid_target");
      expect(location.searchParams.get("state")).toBe("st-123");
      expect(location.searchParams.get("iss")).toBe(ORIGIN); // RFC 9207
    }
  });

  it("says why a resource is refused: a fragment, or a URI that is too long", async () => {
    const client = await createTestClient();
    const fragment = await authorize(open, client, { resource: "https://api.example.com/mcp#frag" });
    expect(fragment.searchParams.get("error_description")).toContain("fragment");
    const long = await authorize(open, client, { resource: `https://api.example.com/${"a".repeat(2048)}` });
    expect(long.searchParams.get("error")).toBe("invalid_request"); // every parameter is capped at 2048
    const { resolveResource } = await import("../src/oauth/resource");
    expect(() => resolveResource(settingsOf(open), `https://api.example.com/${"a".repeat(2040)}`)).toThrow(/too long/);
  });
});

describe("an operator allow-list (RESOURCE_ALLOW_LIST)", () => {
  it("accepts listed resources and the default audience", async () => {
    const t = await tokens(await exchange(listed, await grant(listed, MCP)));
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
    expect((await grant(listed)).code).toBeTruthy();
  });

  it("refuses any other resource at authorization with invalid_target (§2)", async () => {
    const client = await createTestClient();
    for (const other of [OTHER, `${MCP}/`, "https://api.example.com/v2", "https://API.example.com.evil/"]) {
      const location = await authorize(listed, client, { resource: other });
      expect(location.searchParams.get("error"), other).toBe("invalid_target");
      expect(location.searchParams.get("code")).toBeNull();
    }
  });

  it("a listed origin matches with or without the trailing slash URL.href adds; aud is the listed spelling", async () => {
    const t = await tokens(await exchange(listed, await grant(listed, "https://api.example.com/")));
    expect(decodeJwt(t.access_token).aud).toBe("https://api.example.com");
  });

  it("refuses an unlisted resource at the token endpoint too", async () => {
    await expectInvalidTarget(await exchange(listed, await grant(listed, MCP), { resource: OTHER }));
  });
});

describe("UserInfo takes only tokens whose aud contains the issuer (RFC 9068 §4, OIDC Core §5.3)", () => {
  const userinfo = (token: string) =>
    callWith(open, "/oauth/userinfo", { headers: { Authorization: `Bearer ${token}` } });

  async function introspect(client: TestClient, token: string) {
    const body = new URLSearchParams({ token, client_id: client.id });
    const r = await callWith(open, "/oauth/introspect", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
    return (await r.json()) as { active: boolean; aud?: unknown };
  }

  it("openid with a resource: aud is [resource, issuer], on code exchange and refresh; UserInfo answers", async () => {
    const g = await grant(open, MCP, "openid email ir.incidents:read");
    const first = await tokens(await exchange(open, g));
    expect(decodeJwt(first.access_token).aud).toEqual([MCP, ORIGIN]);
    const res = await userinfo(first.access_token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { email: string }).email).toBe("admin@example.com");
    const second = await tokens(await refresh(open, g.client, first.refresh_token));
    expect(decodeJwt(second.access_token).aud).toEqual([MCP, ORIGIN]);
    // Introspection answers for every audience and reports aud as issued (RFC 7662 §2.2).
    expect(await introspect(g.client, second.access_token)).toMatchObject({ active: true, aud: [MCP, ORIGIN] });
  });

  it("a resource without openid: aud is the resource alone; UserInfo refuses it with 403 insufficient_scope", async () => {
    const g = await grant(open, MCP);
    const t = await tokens(await exchange(open, g));
    expect(decodeJwt(t.access_token).aud).toBe(MCP);
    const res = await userinfo(t.access_token);
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(await introspect(g.client, t.access_token)).toMatchObject({ active: true, aud: MCP });
  });

  it("a token with openid whose aud lacks the issuer gets 401 invalid_token", async () => {
    const client = await createTestClient();
    const settings = settingsOf(open);
    const keyset = await keysetOf(dbOf(open.DB), settings);
    const { token } = await mintAccessToken(keyset, settings, {
      sub: DEMO.admin,
      aud: MCP,
      clientId: client.id,
      scope: "openid email",
      teamId: DEMO.team,
    });
    const res = await userinfo(token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    // The same token is live for introspection, which serves every audience.
    expect(await introspect(client, token)).toMatchObject({ active: true, aud: MCP });
  });
});
