import { describe, expect, it } from "vitest";
import { ConfigError, type Env, loadSettings } from "../src/config";

const base = { ISSUER: "http://127.0.0.1:8787" } as Env;

function errorOf(env: Partial<Env>): ConfigError {
  try {
    loadSettings({ ...base, ...env } as Env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("settings", () => {
  it("has the defaults README 'Configuration' lists", () => {
    const s = loadSettings(base);
    expect(s.issuer).toBe("http://127.0.0.1:8787");
    expect(s.accessTokenTtl).toBe(3600);
    expect(s.codeTtl).toBe(60);
    expect(s.refreshTokenTtl).toBe(365 * 24 * 3600);
    expect(s.refreshGraceSeconds).toBe(30);
    expect(s.registrationLimitPerHour).toBe(10);
    expect(s.defaultAudience).toBe(s.issuer);
    expect(s.devSignIn).toBe(false);
  });

  it("names the variable that is missing or invalid", () => {
    expect(errorOf({ ISSUER: undefined }).variable).toBe("ISSUER");
    expect(errorOf({ ISSUER: "not a url" }).message).toContain("ISSUER");
    expect(errorOf({ ISSUER: "http://auth.example.com" }).variable).toBe("ISSUER"); // http only on loopback
    expect(errorOf({ ISSUER: "https://auth.example.com/" }).variable).toBe("ISSUER");
    expect(errorOf({ ISSUER: "https://auth.example.com?x=1" }).variable).toBe("ISSUER"); // RFC 8414 §2
    expect(errorOf({ REFRESH_GRACE_SECONDS: "soon" }).variable).toBe("REFRESH_GRACE_SECONDS");
    expect(errorOf({ DEV_SIGNIN: "yes please" }).variable).toBe("DEV_SIGNIN");
    expect(errorOf({ KEY_ENCRYPTION_SECRET: "short" }).variable).toBe("KEY_ENCRYPTION_SECRET");
    expect(errorOf({ UPSTREAM_ISSUER: "https://idp.example" }).variable).toBe("UPSTREAM_CLIENT_ID");
  });

  it("turns dev sign-in on only with the flag AND a loopback issuer", () => {
    expect(loadSettings({ ...base, DEV_SIGNIN: "true" }).devSignIn).toBe(true);
    expect(loadSettings({ ISSUER: "https://auth.example.com", DEV_SIGNIN: "true" } as Env).devSignIn).toBe(false);
    expect(loadSettings({ ISSUER: "http://localhost:8787", DEV_SIGNIN: "true" } as Env).devSignIn).toBe(true);
  });

  it("refuses the test-only loopback metadata-document allowance with a public issuer", () => {
    expect(errorOf({ ISSUER: "https://auth.example.com", ALLOW_LOOPBACK_METADATA_DOCUMENTS: "true" }).variable).toBe(
      "ALLOW_LOOPBACK_METADATA_DOCUMENTS",
    );
  });

  it("a broken setting answers a clear server_error naming the variable, never a stack trace", async () => {
    const { app } = await import("../src/app");
    const res = await app.fetch(new Request("https://x.example/.well-known/openid-configuration"), {} as Env);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body.error).toBe("server_error");
    expect(body.error_description).toContain("ISSUER");
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  });
});
