/**
 * Discovery and JWKS as real relying parties see them: oauth4webapi, openid-client, the MCP SDK and
 * jose's remote JWKS, over HTTP against `wrangler dev` (started by global-setup.ts).
 */

import { discoverAuthorizationServerMetadata } from "@modelcontextprotocol/sdk/client/auth.js";
import { calculateJwkThumbprint, createRemoteJWKSet, type JWK } from "jose";
import * as oauth from "oauth4webapi";
import * as client from "openid-client";
import { describe, expect, it } from "vitest";
import { restartWorker, sharedWorker } from "./harness/server";

const worker = sharedWorker();
const issuer = new URL(worker.issuer);

describe("discovery with real client libraries", () => {
  it("oauth4webapi accepts the OpenID configuration; its issuer is the configured one (OIDC Discovery §4.3)", async () => {
    const response = await oauth.discoveryRequest(issuer, { algorithm: "oidc", [oauth.allowInsecureRequests]: true });
    // processDiscoveryResponse throws unless `issuer` is byte-identical to the URL it was fetched for.
    const as = await oauth.processDiscoveryResponse(issuer, response);
    expect(as.issuer).toBe(worker.issuer);
    expect(worker.issuer).toBe(worker.baseUrl);
    expect(as.token_endpoint).toBe(`${worker.baseUrl}/oauth/token`);
    expect(as.code_challenge_methods_supported).toEqual(["S256"]);
  });

  it("oauth4webapi accepts the RFC 8414 document at its well-known path (RFC 8414 §3.3)", async () => {
    const response = await oauth.discoveryRequest(issuer, { algorithm: "oauth2", [oauth.allowInsecureRequests]: true });
    const as = await oauth.processDiscoveryResponse(issuer, response);
    expect(as.issuer).toBe(worker.issuer);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
  });

  it("openid-client discovery() builds a Configuration for the loopback issuer", async () => {
    const config = await client.discovery(issuer, "e2e-discovery-probe", undefined, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const md = config.serverMetadata();
    expect(md.issuer).toBe(worker.issuer);
    expect(md.supportsPKCE()).toBe(true);
    expect(md.jwks_uri).toBe(`${worker.baseUrl}/oauth/discovery/keys`);
  });

  it("the MCP SDK finds the authorization server metadata", async () => {
    const md = await discoverAuthorizationServerMetadata(worker.baseUrl);
    expect(md?.issuer).toBe(worker.issuer);
    expect(md?.registration_endpoint).toBe(`${worker.baseUrl}/oauth/register`);
  });

  it("answers CORS on metadata and JWKS for browser and MCP clients", async () => {
    for (const path of [
      "/.well-known/openid-configuration",
      "/.well-known/oauth-authorization-server",
      "/oauth/discovery/keys",
    ]) {
      const res = await fetch(`${worker.baseUrl}${path}`, { headers: { Origin: "https://app.example" } });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("access-control-allow-origin"), path).toBe("*");
    }
  });
});

describe("JWKS (RFC 7517) through jose's createRemoteJWKSet", () => {
  async function publishedKeys(): Promise<JWK[]> {
    const jwks = createRemoteJWKSet(new URL(`${worker.baseUrl}/oauth/discovery/keys`));
    await jwks.reload();
    return jwks.jwks()?.keys ?? [];
  }

  it("resolves a verification key for every published kid, ES256 and RS256, public parts only", async () => {
    const jwks = createRemoteJWKSet(new URL(`${worker.baseUrl}/oauth/discovery/keys`));
    await jwks.reload();
    const keys = jwks.jwks()?.keys ?? [];
    expect(keys.map((k) => k.alg).sort()).toEqual(expect.arrayContaining(["ES256", "RS256"]));
    for (const jwk of keys) {
      expect(jwk.d, "private key material must never be published").toBeUndefined();
      expect(jwk.kid).toBe(await calculateJwkThumbprint(jwk)); // kid = RFC 7638 thumbprint
      // What a relying party does with a token header: pick the key by kid and alg.
      const key = await jwks({ alg: jwk.alg as string, kid: jwk.kid });
      expect(key.type).toBe("public");
    }
  });

  it("keeps the same signing keys across a restart of wrangler dev (same state directory)", async () => {
    const before = (await publishedKeys()).map((k) => k.kid).sort();
    await restartWorker();
    const after = (await publishedKeys()).map((k) => k.kid).sort();
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(after).toEqual(before);
  });
});
