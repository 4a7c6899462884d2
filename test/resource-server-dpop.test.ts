/**
 * The resource-server helper (edge-oidc/resource-server) with DPoP-bound tokens (RFC 9449 §7):
 * tokens from our own token endpoint, bound to a proof's key; the helper checks the proof (§4.3
 * including ath), the key binding (§7.1), replay (§11.1), and refuses a bound token as a bearer token.
 */
import { exports } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { type ResourceServerVariables, resourceServer } from "../src/resource-server";
import { claimsOf, dpopKey, proof } from "./dpop-helpers";
import { ORIGIN } from "./helpers";
import { createTestClient, DEMO, exchangeCode, obtainCode } from "./oauth-helpers";

const RESOURCE = "https://mcp.example.com/mcp";
const authServer: typeof fetch = (input, init) => exports.default.fetch(new Request(input, init));

function protect(options: { required?: boolean } = {}) {
  const rs = resourceServer({ issuer: ORIGIN, resource: RESOURCE, fetch: authServer, dpop: options });
  const app = new Hono<{ Variables: ResourceServerVariables }>();
  app.route("/", rs.wellKnown);
  app.use("/mcp", rs.authenticate({ scopes: ["ir.incidents:read"] }));
  app.post("/mcp", (c) => c.json(c.get("accessToken")));
  return app;
}

async function boundToken(bound = true) {
  const client = await createTestClient();
  const key = await dpopKey();
  const { code, verifier } = await obtainCode(client, DEMO.member, { resource: RESOURCE, scope: "ir.incidents:read" });
  const res = await exchangeCode(client, code, verifier, {}, bound ? { DPoP: await proof(key) } : {});
  expect(res.status).toBe(200);
  return { key, token: ((await res.json()) as { access_token: string }).access_token };
}

const send = (app: Hono<{ Variables: ResourceServerVariables }>, authorization: string, dpop?: string) =>
  app.request(RESOURCE, { method: "POST", headers: { Authorization: authorization, ...(dpop ? { DPoP: dpop } : {}) } });

const rsProof = (key: Awaited<ReturnType<typeof dpopKey>>, token: string, extra: Parameters<typeof proof>[1] = {}) =>
  proof(key, { htm: "POST", htu: RESOURCE, accessToken: token, nonce: undefined, ...extra });

function expectDpopChallenge(res: Response, code: string) {
  expect(res.status).toBe(401);
  const challenge = res.headers.get("www-authenticate") ?? "";
  expect(challenge).toMatch(/^DPoP algs="ES256 [^"]*"/);
  expect(challenge).toContain(`error="${code}"`);
  expect(challenge).toContain('resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"');
}

describe("DPoP at the resource server (RFC 9449 §7)", () => {
  const app = protect();

  it("accepts a bound token with the DPoP scheme and a proof by its key (§7.1), once (§11.1)", async () => {
    const { key, token } = await boundToken();
    expect(claimsOf(token).cnf).toEqual({ jkt: key.jkt });
    const dpop = await rsProof(key, token);
    const res = await send(app, `DPoP ${token}`, dpop);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { jkt: string }).jkt).toBe(key.jkt);
    expectDpopChallenge(await send(app, `DPoP ${token}`, dpop), "invalid_dpop_proof");
  });

  it("refuses a bound token presented as a bearer token (§7.1)", async () => {
    const { token } = await boundToken();
    expectDpopChallenge(await send(app, `Bearer ${token}`), "invalid_token");
  });

  it("refuses a proof without ath, with a wrong ath, for another URI or method (§4.3)", async () => {
    const { key, token } = await boundToken();
    for (const dpop of [
      await proof(key, { htm: "POST", htu: RESOURCE, nonce: undefined }),
      await rsProof(key, `${token}x`),
      await rsProof(key, token, { htu: "https://mcp.example.com/other" }),
      await rsProof(key, token, { htm: "GET" }),
    ]) {
      expectDpopChallenge(await send(app, `DPoP ${token}`, dpop), "invalid_dpop_proof");
    }
  });

  it("refuses a proof signed by another key than the token is bound to (§7.1)", async () => {
    const { token } = await boundToken();
    expectDpopChallenge(await send(app, `DPoP ${token}`, await rsProof(await dpopKey(), token)), "invalid_token");
  });

  it("with required: true refuses bearer tokens and says so in its metadata (RFC 9728 §2)", async () => {
    const strict = protect({ required: true });
    const { token } = await boundToken(false);
    expectDpopChallenge(await send(strict, `Bearer ${token}`), "invalid_token");
    const md = (await (
      await strict.request("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
    ).json()) as Record<string, unknown>;
    expect(md.dpop_bound_access_tokens_required).toBe(true);
  });
});
