/**
 * How an MCP client finds this authorization server: the MCP SDK's own discovery functions
 * (buildDiscoveryUrls, discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata)
 * run here inside workerd with their fetchFn pointed at the worker. Every well-known URL the SDK
 * probes — root, path-inserted (RFC 8414 §3.1) and path-appended (OIDC Discovery §4) — must answer
 * with the configured issuer byte for byte, for an issuer with and without a path.
 */
import { env } from "cloudflare:workers";
import {
  buildDiscoveryUrls,
  discoverAuthorizationServerMetadata,
  discoverOAuthProtectedResourceMetadata,
} from "@modelcontextprotocol/sdk/client/auth.js";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import type { Env } from "../src/config";
import { resourceServer } from "../src/resource-server";
import { ORIGIN } from "./helpers";

const SECRET = "k".repeat(40);

function workerAt(issuer: string): typeof fetch {
  const bindings: Env = { ...env, ISSUER: issuer, KEY_ENCRYPTION_SECRET: SECRET };
  return async (input, init) => app.fetch(new Request(input, init), bindings);
}

describe.each([ORIGIN, "https://auth.example.com/tenant", "https://auth.example.com/a/b"])("issuer %s", (issuer) => {
  const fetchFn = workerAt(issuer);

  it("every URL the MCP SDK probes answers with the identical issuer", async () => {
    const urls = buildDiscoveryUrls(issuer);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const { url, type } of urls) {
      const res = await fetchFn(url);
      expect(res.status, url.href).toBe(200);
      const md = (await res.json()) as { issuer: string; code_challenge_methods_supported: string[] };
      expect(md.issuer, url.href).toBe(issuer);
      expect(md.code_challenge_methods_supported).toEqual(["S256"]);
      if (type === "oidc") expect(url.pathname).toContain("openid-configuration");
    }
  });

  it("discoverAuthorizationServerMetadata finds it, with CIMD and registration advertised", async () => {
    const md = await discoverAuthorizationServerMetadata(issuer, { fetchFn });
    expect(md?.issuer).toBe(issuer);
    expect(md?.client_id_metadata_document_supported).toBe(true);
    expect(md?.registration_endpoint).toBe(`${new URL(issuer).origin}/oauth/register`);
  });
});

describe("protected resource metadata through the SDK (RFC 9728 §3)", () => {
  it("discoverOAuthProtectedResourceMetadata reads the middleware's document for a resource with a path", async () => {
    // A loopback resource URL with nothing listening: should fetchFn ever be bypassed, nothing leaves the machine.
    const resource = "http://127.0.0.1:9/mcp";
    const rs = resourceServer({ issuer: ORIGIN, resource });
    const seen: string[] = [];
    const prm = await discoverOAuthProtectedResourceMetadata(resource, {}, async (input, init) => {
      const request = new Request(input, init);
      seen.push(new URL(request.url).pathname);
      return rs.wellKnown.fetch(request);
    });
    expect(seen[0]).toBe("/.well-known/oauth-protected-resource/mcp"); // RFC 9728 §3.1 form first
    expect(prm.resource).toBe(resource);
    expect(prm.authorization_servers).toEqual([ORIGIN]);
  });
});
