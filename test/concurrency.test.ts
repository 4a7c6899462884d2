/**
 * Concurrency: the UserGrants object makes each transition atomic, so racing requests cannot
 * double-spend a code (RFC 6749 §4.1.2) or fork a refresh chain (RFC 9700 §4.14.2).
 */
import { describe, expect, it } from "vitest";
import { call } from "./helpers";
import { createTestClient, DEMO, exchangeCode, obtainCode, tokenRequest } from "./oauth-helpers";

describe("concurrency", () => {
  it("50 parallel redemptions of one code: exactly one success, and the family is then revoked", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.admin);
    const responses = await Promise.all(Array.from({ length: 50 }, () => exchangeCode(client, code, verifier)));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Record<string, string>>));
    const winners = bodies.filter((b) => b.access_token);
    expect(winners).toHaveLength(1);
    expect(responses.filter((r) => r.status === 400)).toHaveLength(49);
    for (const b of bodies.filter((x) => !x.access_token)) expect(b.error).toBe("invalid_grant");
    // The replays revoked what the winner got (RFC 6749 §4.1.2).
    const refresh = await tokenRequest(client, {
      grant_type: "refresh_token",
      refresh_token: winners[0]!.refresh_token!,
    });
    expect(refresh.status).toBe(400);
  });

  it("50 parallel refreshes of one token: one live successor, and it still works", async () => {
    const client = await createTestClient();
    const { code, verifier } = await obtainCode(client, DEMO.member);
    const first = (await (await exchangeCode(client, code, verifier)).json()) as { refresh_token: string };
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        tokenRequest(client, { grant_type: "refresh_token", refresh_token: first.refresh_token }),
      ),
    );
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<Record<string, string>>));
    expect(responses.every((r) => r.status === 200)).toBe(true); // all inside the grace window
    const successors = new Set(bodies.map((b) => b.refresh_token));
    expect(successors.size).toBe(1);
    const next = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: [...successors][0]! });
    expect(next.status).toBe(200);
  });
});

describe("registration rate limit under a burst", () => {
  it("50 parallel registrations from one IP: exactly 10 succeed, the rest get 429 (README 'Configuration': 10/hour/IP)", async () => {
    const register = () =>
      call("/oauth/register", {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.50" },
        body: JSON.stringify({
          client_name: "burst",
          redirect_uris: ["https://burst.example/cb"],
          token_endpoint_auth_method: "none",
        }),
      });
    const responses = await Promise.all(Array.from({ length: 50 }, register));
    const created = responses.filter((r) => r.status === 201).length;
    // The limiter is exact within one isolate (README "Known limits"), and the test runs in one.
    expect(created).toBe(10);
    expect(responses.filter((r) => r.status === 429).length).toBe(40);
    expect(responses.find((r) => r.status === 429)?.headers.get("retry-after")).toMatch(/^\d+$/);
  });
});
