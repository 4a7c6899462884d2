import { describe, expect, it } from "vitest";
import { OAuthError } from "../src/oauth/errors";
import { matchesRegisteredRedirectUri, validateRedirectUri } from "../src/oauth/redirect-uri";

function refusal(uri: string): string | undefined {
  try {
    validateRedirectUri(uri);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).code).toBe("invalid_redirect_uri");
    return (err as OAuthError).description;
  }
}

describe("validateRedirectUri", () => {
  it.each([
    "https://app.example.com/callback",
    "https://app.example.com/callback?tenant=a&x=1",
    "https://app.example.com",
    "https://app.example.com:8443/cb",
    "http://127.0.0.1/callback",
    "http://127.0.0.1:33418/",
    "http://[::1]:8080/cb",
    "http://localhost:6274/oauth/callback",
  ])("accepts %s (https, or http on loopback: RFC 8252 §7.3)", (uri) => {
    expect(validateRedirectUri(uri)).toBe(uri);
  });

  it.each([
    ["http://app.example.com/cb", "https"],
    ["http://127.0.0.2/cb", "https"],
    ["http://localhost.evil.com/cb", "https"],
    ["http://127.0.0.1.nip.io/cb", "https"],
    ["http://localhost./cb", "https"],
  ])("refuses non-loopback http %s", (uri, why) => {
    expect(refusal(uri)).toContain(why);
  });

  it("refuses fragments, even empty ones (RFC 6749 §3.1.2)", () => {
    expect(refusal("https://app.example.com/cb#x")).toContain("fragment");
    expect(refusal("https://app.example.com/cb#")).toContain("fragment");
  });

  it.each([
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "ftp://example.com/cb",
    "com.example.app:/callback",
    "//app.example.com/cb",
    "/callback",
    "",
  ])("refuses other schemes and relative references: %s", (uri) => {
    expect(refusal(uri)).toBeDefined();
  });

  it.each([
    ["userinfo", "https://good.example@evil.example/cb"],
    ["userinfo with password", "https://a:b@app.example.com/cb"],
    ["fullwidth letters", "https://ｅｘａｍｐｌｅ.com/cb"],
    ["Cyrillic homograph", "https://аpple.com/cb"],
    ["Unicode in the path", "https://app.example.com/cällback"],
    ["a space", "https://app.example.com/call back"],
    ["a tab the URL parser would drop", "https://app.exa\tmple.com/cb"],
    ["a newline", "https://app.example.com/cb\n"],
    ["a NUL", "https://app.example.com/cb\u0000"],
    ["a right-to-left override", "https://app.example.com/\u202ebc"],
    ["a zero-width space", "https://app.\u200bexample.com/cb"],
    ["a backslash", "https://app.example.com\\@evil.example/cb"],
    ["a wildcard host", "https://*.example.com/cb"],
  ])("refuses %s", (_what, uri) => {
    expect(refusal(uri)).toBeDefined();
  });

  it.each([
    ["https:app.example.com/cb", "https://app.example.com/cb"],
    ["HTTPS://APP.EXAMPLE.COM/cb", "https://app.example.com/cb"],
    ["https://app.example.com:443/cb", "https://app.example.com/cb"],
    ["http://0x7f.1/cb", "http://127.0.0.1/cb"],
    ["http://[0:0::1]/cb", "http://[::1]/cb"],
    ["https://app.example.com/a/../cb", "https://app.example.com/cb"],
  ])("refuses %s, which a browser would turn into something else (%s)", (uri, canonical) => {
    expect(refusal(uri)).toContain(canonical);
  });

  it("caps the length", () => {
    expect(refusal(`https://app.example.com/${"a".repeat(2100)}`)).toContain("2000");
  });
});

describe("matchesRegisteredRedirectUri", () => {
  const registered = ["https://app.example.com/cb", "http://127.0.0.1/callback", "http://localhost:3000/cb?x=1"];

  it("matches registered URIs exactly (RFC 9700 §4.1.3)", () => {
    expect(matchesRegisteredRedirectUri(registered, "https://app.example.com/cb")).toBe(true);
    expect(matchesRegisteredRedirectUri(registered, "https://app.example.com/cb/")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "https://app.example.com/cb?x=1")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "https://APP.example.com/cb")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "https://app.example.com:443/cb")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "https://app.example.com:8443/cb")).toBe(false);
  });

  it("lets only loopback redirect URIs change port (RFC 8252 §7.3)", () => {
    expect(matchesRegisteredRedirectUri(registered, "http://127.0.0.1:51234/callback")).toBe(true);
    expect(matchesRegisteredRedirectUri(registered, "http://localhost:4000/cb?x=1")).toBe(true);
    expect(matchesRegisteredRedirectUri(registered, "http://localhost/cb?x=1")).toBe(true);
    // Host, path and query still match exactly.
    expect(matchesRegisteredRedirectUri(registered, "http://localhost:51234/callback")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "http://127.0.0.1:51234/callback/x")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "http://127.0.0.1:51234/callback?y=2")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "http://localhost:4000/cb?x=2")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "https://127.0.0.1:51234/callback")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "http://127.0.0.1:51234/callback#frag")).toBe(false);
    expect(matchesRegisteredRedirectUri(registered, "http://user@127.0.0.1:51234/callback")).toBe(false);
  });

  it("never matches a requested URI that is not a string", () => {
    expect(matchesRegisteredRedirectUri(registered, undefined as unknown as string)).toBe(false);
  });
});
