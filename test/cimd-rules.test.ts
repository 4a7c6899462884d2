/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document), the rules: which
 * client_id URLs may be fetched (draft §3 + SSRF), cache lifetimes, and what a document must say
 * (draft §4.1). Every refusal here happens before any traffic is sent: the endpoint tests at the end
 * prove it by counting requests on the real loopback document server with the allowance off.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, type Env, loadSettings } from "../src/config";
import {
  cacheLifetimeSeconds,
  checkMetadataDocumentUrl,
  MetadataDocumentError,
  parseMetadataDocument,
} from "../src/oauth/client-metadata-document";
import { call } from "./helpers";
import { hits, publishClient } from "./metadata-documents/publish";
import { pkcePair } from "./oauth-helpers";

const PUBLIC = { allowLoopback: false };
const TESTING = { allowLoopback: true };

function refusal(url: string, options = PUBLIC): string {
  try {
    checkMetadataDocumentUrl(url, options);
  } catch (e) {
    expect(e).toBeInstanceOf(MetadataDocumentError);
    return (e as Error).message;
  }
  throw new Error(`${url} was accepted`);
}

describe("which client_id URLs may be fetched (draft §3, SSRF)", () => {
  it.each([
    "https://10.0.0.1/x",
    "https://127.0.0.1/x",
    "https://127.8.9.10/x",
    "https://[::1]/x",
    "https://169.254.169.254/latest",
    "https://localhost/x",
    "https://api.localhost/x",
    "https://printer.local/x",
    "https://db.internal/x",
    "https://intranet/x",
    "https://metadata/computeMetadata/v1",
    "https://172.16.0.1/x",
    "https://172.31.255.255/x",
    "https://192.168.1.1/x",
    "https://100.64.0.1/x", // CGNAT (RFC 6598)
    "https://0.0.0.0/x",
    "https://224.0.0.1/x", // multicast
    "https://255.255.255.255/x",
    "https://198.18.0.1/x", // benchmarking
    "https://[fc00::1]/x", // unique-local
    "https://[fd12:3456::1]/x",
    "https://[fe80::1]/x", // link-local
    "https://[ff02::1]/x", // multicast
    "https://[::ffff:7f00:1]/x", // IPv4-mapped 127.0.0.1
    "https://[::]/x",
    "https://[64:ff9b::a00:1]/x", // NAT64 of 10.0.0.1
    "https://[2002:a00:1::]/x", // 6to4 of 10.0.0.1
    "https://[2001:db8::1]/x", // documentation
  ])("refuses the private or special-use target %s", (url) => {
    expect(refusal(url)).toMatch(/host/);
  });

  it("refuses numeric spellings of private addresses, which are not canonical", () => {
    for (const url of ["https://2130706433/x", "https://0x7f.1/x", "https://017700000001/x", "https://10.1/x"]) {
      expect(refusal(url)).toMatch(/canonical|host/);
    }
  });

  it.each([
    ["http://app.example.com/client.json", /https/],
    ["https://app.example.com", /path/],
    ["https://app.example.com/", /path/],
    ["https://user:pw@app.example.com/client.json", /userinfo/],
    ["https://app.example.com/client.json#x", /fragment/],
    ["https://app.example.com/a/../client.json", /canonical/],
    ["https://APP.example.com/client.json", /canonical/],
    ["https://app.example.com:443/client.json", /canonical/],
    ["https://app.example.com/cl ient.json", /ASCII/],
    ["not a url", /https|URL/],
  ])("refuses %s (draft §3)", (url, reason) => {
    expect(refusal(url)).toMatch(reason);
  });

  it("refuses a client_id URL longer than 2 KB", () => {
    expect(refusal(`https://app.example.com/${"a".repeat(2040)}`)).toMatch(/longer than 2048/);
  });

  it("accepts public https URLs with a path: names, public IPv4 and global IPv6", () => {
    for (const url of [
      "https://app.example.com/client.json",
      "https://app.example.com/oauth/client?v=2",
      "https://93.184.215.14/client.json",
      "https://[2606:4700:4700::1111]/client.json",
    ]) {
      expect(checkMetadataDocumentUrl(url, PUBLIC).href).toBe(url);
    }
  });

  it("fetches only the https port: an explicit other port is refused before any traffic", () => {
    for (const url of [
      "https://app.example.com:8443/client.json",
      "https://app.example.com:22/client.json",
      "https://93.184.215.14:6379/client.json",
      "https://app.example.com:80/client.json",
    ]) {
      expect(refusal(url)).toMatch(/must not name a port/);
    }
    // The default port written out is not canonical (the URL would print without it).
    expect(refusal("https://app.example.com:443/client.json")).toMatch(/canonical/);
    expect(() => checkMetadataDocumentUrl("https://app.example.com:8443/c.json", TESTING)).toThrow(/port/);
  });

  it("the test-only allowance opens loopback (http or https) and nothing else", () => {
    expect(checkMetadataDocumentUrl("http://127.0.0.1:9999/c.json", TESTING).port).toBe("9999");
    expect(checkMetadataDocumentUrl("https://[::1]/c.json", TESTING).hostname).toBe("[::1]");
    expect(checkMetadataDocumentUrl("http://localhost:1/c.json", TESTING).hostname).toBe("localhost");
    for (const url of ["https://10.0.0.1/x", "https://169.254.169.254/latest", "http://app.example.com/c.json"]) {
      expect(() => checkMetadataDocumentUrl(url, TESTING)).toThrow(MetadataDocumentError);
    }
  });

  it("production configuration cannot turn the allowance on (config.ts)", () => {
    const prod = { ISSUER: "https://auth.example.com", ALLOW_LOOPBACK_METADATA_DOCUMENTS: "true" } as Env;
    expect(() => loadSettings(prod)).toThrow(ConfigError);
    expect(loadSettings({ ISSUER: "https://auth.example.com" } as Env).allowLoopbackMetadataDocuments).toBe(false);
  });
});

describe("cache lifetime from Cache-Control (RFC 9111 §5.2.2), clamped to 60 s … 24 h", () => {
  it.each([
    ["max-age=600", 600],
    ["public, max-age=3600", 3600],
    ["max-age=5", 60],
    ["max-age=99999999", 86400],
    ["no-store", 60],
    ["no-cache, max-age=600", 60],
    [null, 60],
    ["garbage", 60],
  ])("%s → %i s", (header, seconds) => {
    expect(cacheLifetimeSeconds(header)).toBe(seconds);
  });
});

describe("what a document must say (draft §4.1, RFC 7591 §2)", () => {
  const id = "https://app.example.com/client.json";
  const doc = (extra: Record<string, unknown> = {}) => ({
    client_id: id,
    client_name: "App",
    redirect_uris: ["https://app.example.com/cb"],
    ...extra,
  });
  const why = (d: Record<string, unknown>) => {
    try {
      parseMetadataDocument(id, d);
    } catch (e) {
      expect(e).toBeInstanceOf(MetadataDocumentError);
      return (e as Error).message;
    }
    throw new Error("accepted");
  };

  it("takes name, redirect URIs, grants, logo and client URI from the document; public client", () => {
    const parsed = parseMetadataDocument(
      id,
      doc({ logo_uri: "https://app.example.com/l.png", client_uri: "https://app.example.com" }),
    );
    expect(parsed).toMatchObject({
      clientName: "App",
      tokenEndpointAuthMethod: "none",
      redirectUris: ["https://app.example.com/cb"],
      grantTypes: ["authorization_code"],
      applicationType: "web",
    });
    expect(parsed.metadata).toMatchObject({
      logo_uri: "https://app.example.com/l.png",
      client_uri: "https://app.example.com",
    });
  });

  it("the client_id in the document must equal the URL exactly", () => {
    expect(why(doc({ client_id: "https://app.example.com/other.json" }))).toMatch(/client_id differs/);
    expect(why(doc({ client_id: `${id}/` }))).toMatch(/client_id differs/);
    expect(why(doc({ client_id: undefined }))).toMatch(/client_id differs/);
  });

  it("refuses shared secrets and private_key_jwt without keys, accepts none", () => {
    expect(why(doc({ token_endpoint_auth_method: "client_secret_basic" }))).toMatch(/"none"/);
    expect(why(doc({ token_endpoint_auth_method: "private_key_jwt" }))).toMatch(/private_key_jwt/);
    expect(why(doc({ client_secret: "s" }))).toMatch(/client_secret/);
    expect(parseMetadataDocument(id, doc({ token_endpoint_auth_method: "none" })).tokenEndpointAuthMethod).toBe("none");
  });

  it("redirect URIs are required and follow the redirect URI rules", () => {
    expect(why(doc({ redirect_uris: undefined }))).toMatch(/redirect_uris/);
    expect(why(doc({ redirect_uris: ["http://app.example.com/cb"] }))).toMatch(/https/);
    expect(why(doc({ redirect_uris: ["https://app.example.com/cb#f"] }))).toMatch(/fragment/);
  });

  it("grant types are a subset of authorization_code and refresh_token", () => {
    expect(why(doc({ grant_types: ["client_credentials"] }))).toMatch(/client_credentials/);
    expect(why(doc({ grant_types: ["implicit", "authorization_code"] }))).toMatch(/not supported/);
    expect(parseMetadataDocument(id, doc({ grant_types: ["authorization_code", "refresh_token"] })).grantTypes).toEqual(
      ["authorization_code", "refresh_token"],
    );
  });

  it("scope restricts the client to what it names (unknown scopes ignored); none → every granular scope", () => {
    expect(parseMetadataDocument(id, doc({ scope: "openid ir.incidents:read mcp:tools" })).scopes).toEqual([
      "openid",
      "ir.incidents:read",
    ]);
    expect(parseMetadataDocument(id, doc({ scope: "mcp:tools" })).scopes).toEqual(["openid"]);
    expect(parseMetadataDocument(id, doc()).scopes).toContain("oc.alerts:write");
  });

  it("loopback-only redirect URIs make a native client (RFC 8252)", () => {
    expect(parseMetadataDocument(id, doc({ redirect_uris: ["http://127.0.0.1/cb"] })).applicationType).toBe("native");
  });
});

describe("the endpoints refuse before fetching when the allowance is off (production settings)", () => {
  it("/oauth/authorize shows the error page and sends no request to the loopback document", async () => {
    const clientId = await publishClient("ssrf-authorize");
    const { challenge } = await pkcePair();
    const q = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: "http://127.0.0.1/callback",
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const res = await call(`/oauth/authorize?${q}`, { redirect: "manual" });
    expect(res.status).toBe(400); // RFC 6749 §4.1.2.1: never a redirect to an unverified client
    expect(res.headers.get("location")).toBeNull();
    expect(res.headers.get("content-type")).toContain("text/html");
    expect((await hits(clientId)).hits).toBe(0);
  });

  it("/oauth/token answers invalid_client and sends no request either", async () => {
    const clientId = await publishClient("ssrf-token");
    expect(env.ALLOW_LOOPBACK_METADATA_DOCUMENTS).toBeUndefined();
    const res = await call("/oauth/token", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: clientId,
        code: "x",
        code_verifier: "y",
      }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("invalid_client");
    expect(body.error_description).toMatch(/https|host/); // the test server is http on loopback: both refused
    expect((await hits(clientId)).hits).toBe(0);
  });

  it.each(["https://10.0.0.1/x", "https://169.254.169.254/latest", "https://[::1]/x", "https://localhost/x"])(
    "/oauth/token refuses %s with invalid_client naming the reason",
    async (clientId) => {
      const res = await call("/oauth/token", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "refresh_token", client_id: clientId, refresh_token: "x" }),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error_description: string }).error_description).toMatch(/host/);
    },
  );
});
