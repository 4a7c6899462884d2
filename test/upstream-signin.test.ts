/**
 * Upstream OpenID Connect sign-in against a REAL provider: oidc-provider on 127.0.0.1, started by
 * test/upstream/global-setup.ts. Every hop is a real HTTP request (workerd → 127.0.0.1:<port>): the
 * worker's discovery, the browser's trip to the provider and back, the code exchange, the JWKS fetch.
 * Only this file configures the upstream (the rest of the suite runs without one).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/config";
import { provisionUpstreamUser } from "../src/signin/teams";
import { identityFrom, UpstreamSignInError } from "../src/signin/upstream";
import { dbOf } from "../src/store/db";
import { call, ORIGIN } from "./helpers";
import { ADMIN_TOKEN } from "./oauth-helpers";
import { hiddenField, TestBrowser } from "./signin-browser";
import { UPSTREAM_CLIENT } from "./upstream/accounts";

const upstreamIssuer = (env as unknown as { TEST_UPSTREAM_ISSUER: string }).TEST_UPSTREAM_ISSUER;
const upstreamEnv = {
  ...env,
  UPSTREAM_ISSUER: upstreamIssuer,
  UPSTREAM_CLIENT_ID: UPSTREAM_CLIENT.clientId,
  UPSTREAM_CLIENT_SECRET: UPSTREAM_CLIENT.clientSecret,
} as Env;

interface Trip {
  browser: TestBrowser;
  /** Where the upstream sent the browser back: ORIGIN/signin/callback?code=…&state=…&iss=… */
  callback: URL;
  /** The upstream authorization request the worker built. */
  authorizationRequest: URL;
  /** What the provider's interaction saw as login_hint. */
  loginHint: unknown;
}

/**
 * A person at the browser: starts sign-in at the worker, follows redirects to the provider, signs in
 * there as `account` (the provider's interaction endpoint), and stops at the redirect back to us.
 */
async function travelToUpstream(account: string, query = "return_to=%2F"): Promise<Trip> {
  const browser = new TestBrowser(upstreamEnv);
  const start = await browser.fetch(`/signin/upstream?${query}`);
  expect(start.status).toBe(302);
  const authorizationRequest = new URL(start.headers.get("location") as string);
  let next = authorizationRequest;
  let loginHint: unknown;
  for (let hop = 0; hop < 10; hop++) {
    if (next.origin === ORIGIN) return { browser, callback: next, authorizationRequest, loginHint };
    if (next.pathname.startsWith("/interaction/")) {
      const details = (await (await browser.fetch(next.href)).json()) as { prompt: string; login_hint?: string };
      expect(details.prompt).toBe("login");
      loginHint = details.login_hint;
      const done = await browser.fetch(next.href, {
        method: "POST",
        body: new URLSearchParams({ account }),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      });
      expect(done.status).toBe(303);
      next = new URL(done.headers.get("location") as string, next);
      continue;
    }
    const res = await browser.fetch(next.href);
    expect([302, 303]).toContain(res.status);
    next = new URL(res.headers.get("location") as string, next);
  }
  throw new Error("too many redirects on the way to the upstream and back");
}

/** The whole sign-in: to the provider and back to /signin/callback. */
async function upstreamSignIn(account: string, query?: string) {
  const trip = await travelToUpstream(account, query);
  const res = await trip.browser.fetch(trip.callback.href);
  return { ...trip, res };
}

async function rows<T>(sql: string, ...params: unknown[]): Promise<T[]> {
  return (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
}

async function userWithTeam(email: string) {
  const [row] = await rows<{
    id: string;
    name: string;
    team_id: string;
    team_name: string;
    primary_domain: string | null;
    upstream_issuer: string | null;
    upstream_org_id: string | null;
    role: string;
    on_call_role: string;
  }>(
    `SELECT u.id, u.name, t.id AS team_id, t.name AS team_name, t.primary_domain, t.upstream_issuer,
            t.upstream_org_id, m.role, m.on_call_role
       FROM users u JOIN memberships m ON m.user_id = u.id JOIN teams t ON t.id = m.team_id
      WHERE u.email = ?`,
    email,
  );
  return row;
}

describe("upstream sign-in against a real OpenID provider (OIDC Core §3.1)", () => {
  it("workerd reaches the provider on 127.0.0.1 (discovery)", async () => {
    const res = await fetch(`${upstreamIssuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(upstreamIssuer);
  });

  it("offers 'Sign in with …' carrying return_to, login_hint and prompt=login", async () => {
    const html = await (
      await new TestBrowser(upstreamEnv).fetch("/signin?return_to=%2Fnext&login_hint=ada%40acme.test&prompt=login")
    ).text();
    const host = new URL(upstreamIssuer).host;
    expect(html).toContain(`Sign in with ${host}`);
    expect(html).toContain('href="/signin/upstream?return_to=%2Fnext&amp;login_hint=ada%40acme.test&amp;prompt=login"');
  });

  it("sends an authorization request with PKCE S256, state, nonce, login_hint and prompt=login (RFC 7636, OIDC Core §3.1.2.1)", async () => {
    const trip = await travelToUpstream("solo", "return_to=%2F&login_hint=solo%40mail.test&prompt=login");
    const params = trip.authorizationRequest.searchParams;
    expect(trip.authorizationRequest.origin).toBe(upstreamIssuer);
    expect(params.get("client_id")).toBe(UPSTREAM_CLIENT.clientId);
    expect(params.get("redirect_uri")).toBe(`${ORIGIN}/signin/callback`);
    expect(params.get("response_type")).toBe("code");
    expect(params.get("scope")).toBe("openid email profile");
    expect(params.get("code_challenge_method")).toBe("S256");
    expect(params.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(params.get("state")?.length).toBeGreaterThanOrEqual(22);
    expect(params.get("nonce")?.length).toBeGreaterThanOrEqual(22);
    expect(params.get("prompt")).toBe("login");
    expect(trip.loginHint).toBe("solo@mail.test");
    // The flow's secrets live in a short-lived sealed cookie, not in the URL.
    const pending = trip.browser.cookie("eoidc_upstream") as string;
    expect(pending).toMatch(/^v1\./);
    expect(pending).not.toContain(params.get("state"));
    expect(trip.callback.searchParams.get("iss")).toBe(upstreamIssuer); // RFC 9207
  });

  it("sets the pending-sign-in cookie HttpOnly, SameSite=Lax, for 10 minutes", async () => {
    const res = await new TestBrowser(upstreamEnv).fetch("/signin/upstream?return_to=%2F");
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("eoidc_upstream=")) ?? "";
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Max-Age=600/);
  });

  it("creates a team for a Google-style hd organization on its first sign-in; its first user is admin", async () => {
    const { res, browser } = await upstreamSignIn("acme-first", "return_to=%2Foauth%2Fauthorize%3Fclient_id%3Dx");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/oauth/authorize?client_id=x");
    expect(browser.cookie("eoidc_upstream")).toBeUndefined(); // used once, then gone

    const ada = await userWithTeam("ada@acme.test"); // lower-cased
    expect(ada).toMatchObject({
      name: "Ada Acme",
      team_name: "acme.test",
      primary_domain: "acme.test",
      upstream_issuer: upstreamIssuer,
      upstream_org_id: "acme.test",
      role: "admin",
      on_call_role: "admin",
    });
    const home = await (await browser.fetch("/")).text();
    expect(home).toContain("ada@acme.test");
    expect(home).toContain('href="/settings/oauth-applications"');

    const [audit] = await rows<{ team_id: string; detail: string }>(
      "SELECT team_id, detail FROM audit_events WHERE kind = 'signin' AND actor_user_id = ?",
      ada?.id,
    );
    expect(audit?.team_id).toBe(ada?.team_id);
    expect(JSON.parse(audit?.detail ?? "{}")).toMatchObject({ method: "upstream" });
  });

  it("puts a second user of the same hd in the same team as member/responder", async () => {
    const { res } = await upstreamSignIn("acme-second");
    expect(res.status).toBe(303);
    const ada = await userWithTeam("ada@acme.test");
    const grace = await userWithTeam("grace@acme.test");
    expect(grace).toMatchObject({ team_id: ada?.team_id, role: "member", on_call_role: "responder" });
    expect(await rows("SELECT id FROM teams WHERE upstream_org_id = 'acme.test'")).toHaveLength(1);
  });

  it("brings a long authorization request back intact; one too long for a cookie falls back to /", async () => {
    const scopes = Array.from({ length: 46 }, (_, i) => `ir.resource_number_${i}:write`).join(" ");
    const back = `/oauth/authorize?${new URLSearchParams({ client_id: "c".repeat(40), scope: scopes, state: "s".repeat(100) })}`;
    expect(back.length).toBeGreaterThan(1500);
    const ok = await upstreamSignIn("solo", `return_to=${encodeURIComponent(back)}`);
    expect(ok.res.headers.get("location")).toBe(back);

    const tooLong = `/${"x".repeat(3000)}`;
    const trip = await travelToUpstream("solo", `return_to=${encodeURIComponent(tooLong)}`);
    expect((trip.browser.cookie("eoidc_upstream") ?? "").length).toBeLessThan(4000);
    const res = await trip.browser.fetch(trip.callback.href);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
  });

  it("signs a returning user into the same account, with no second user or team", async () => {
    const before = await userWithTeam("ada@acme.test");
    const { res } = await upstreamSignIn("acme-first");
    expect(res.status).toBe(303);
    expect(await userWithTeam("ada@acme.test")).toEqual(before);
    expect(await rows("SELECT id FROM users WHERE email = 'ada@acme.test'")).toHaveLength(1);
  });

  it("gives a user without an organization a personal team they administer", async () => {
    const { res } = await upstreamSignIn("solo");
    expect(res.status).toBe(303);
    expect(await userWithTeam("solo@mail.test")).toMatchObject({
      team_name: "Solo Person's team",
      upstream_org_id: null,
      role: "admin",
      on_call_role: "admin",
    });
  });

  it("keeps only email and name; no upstream token, ID token or subject is stored anywhere", async () => {
    await upstreamSignIn("acme-second");
    const users = await rows<Record<string, unknown>>("SELECT * FROM users WHERE email = 'grace@acme.test'");
    // Besides email and name, only our own bookkeeping: when they last signed in, the version of their memberships.
    expect(Object.keys(users[0] ?? {}).sort()).toEqual([
      "created_at",
      "email",
      "id",
      "kind",
      "last_sign_in_at",
      "membership_version",
      "name",
      "revoked_before",
    ]);
    expect(users[0]).toMatchObject({ email: "grace@acme.test", name: "Grace Acme", kind: "human" });

    const issued = (await (await fetch(`${upstreamIssuer}/test/issued`)).json()) as { kind: string; value: string }[];
    expect(issued.filter((t) => t.kind === "access_token").length).toBeGreaterThan(0);
    const secrets = [...issued.map((t) => t.value), "acme-second", "acme-first", UPSTREAM_CLIENT.clientSecret];
    const tables = await rows<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations'",
    );
    for (const { name } of tables) {
      for (const row of await rows<Record<string, unknown>>(`SELECT * FROM "${name}"`)) {
        for (const value of Object.values(row)) {
          if (typeof value !== "string") continue;
          expect(value, `${name} holds a JWT`).not.toMatch(/eyJ[\w-]+\.eyJ/);
          for (const secret of secrets) expect(value, `${name} holds an upstream value`).not.toContain(secret);
        }
      }
    }
  });

  it("escapes a hostile upstream display name on our pages", async () => {
    const { browser } = await upstreamSignIn("hostile");
    const [user] = await rows<{ name: string }>("SELECT name FROM users WHERE email = 'hostile@mail.test'");
    expect(user?.name).toBe('<img src=x onerror="alert(1)">');
    const home = await (await browser.fetch("/")).text();
    expect(home).not.toContain("<img src=x");
    expect(home).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
  });

  it("an invitation is used at the invitee's next upstream sign-in: they join that team with its roles", async () => {
    const invited = await call("/api/admin/invitations", {
      method: "POST",
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ team_id: "team_demo", email: "ada@acme.test", role: "observer", on_call_role: "none" }),
    });
    expect(invited.status).toBe(201);
    const { res } = await upstreamSignIn("acme-first");
    expect(res.status).toBe(303);
    const teams = await rows<{ team_id: string; role: string; on_call_role: string }>(
      `SELECT m.team_id, m.role, m.on_call_role FROM memberships m JOIN users u ON u.id = m.user_id
       WHERE u.email = 'ada@acme.test' AND m.team_id = 'team_demo'`,
    );
    expect(teams).toEqual([{ team_id: "team_demo", role: "observer", on_call_role: "none" }]);
    expect(await rows("SELECT id FROM invitations WHERE email = 'ada@acme.test'")).toEqual([]);
    // Her own organization's team and role are unchanged.
    const own = await rows<{ role: string }>(
      `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id JOIN teams t ON t.id = m.team_id
       WHERE u.email = 'ada@acme.test' AND t.upstream_org_id = 'acme.test'`,
    );
    expect(own).toEqual([{ role: "admin" }]);
  });
});

describe("upstream sign-in refusals", () => {
  it("refuses a tampered state (RFC 6749 §10.12) with a page, no session and no user", async () => {
    const trip = await travelToUpstream("solo");
    trip.callback.searchParams.set("state", "tampered-state-value");
    const res = await trip.browser.fetch(trip.callback.href);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("does not match");
    expect(html).toContain('<a href="/signin">Sign in again</a>');
    expect(trip.browser.cookie("eoidc_session")).toBeUndefined();
  });

  it("refuses an ID token whose payload was altered under the upstream's signature (jose against the JWKS)", async () => {
    const trip = await travelToUpstream("solo");
    await fetch(`${upstreamIssuer}/test/forge-next-id-token`, { method: "POST" });
    const res = await trip.browser.fetch(trip.callback.href);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("could not be verified");
    expect(trip.browser.cookie("eoidc_session")).toBeUndefined();
    const [audit] = await rows(
      "SELECT id FROM audit_events WHERE kind = 'signin' AND actor_user_id = 'usr_demo_admin'",
    );
    expect(audit).toBeUndefined();
  });

  it("refuses a callback in a browser that never started the sign-in (login CSRF)", async () => {
    const trip = await travelToUpstream("acme-first");
    const other = new TestBrowser(upstreamEnv);
    const res = await other.fetch(trip.callback.href);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("expired");
    expect(other.cookie("eoidc_session")).toBeUndefined();
  });

  it("refuses an email the upstream has not verified, with a clear page", async () => {
    const { res, browser } = await upstreamSignIn("unverified");
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain("Sign-in failed");
    expect(html).toContain("not verified the email address unverified@acme.test");
    expect(browser.cookie("eoidc_session")).toBeUndefined();
    expect(await rows("SELECT id FROM users WHERE email = 'unverified@acme.test'")).toHaveLength(0);
  });

  it("shows the upstream's own refusal (access_denied) as a page, not a 500", async () => {
    const trip = await travelToUpstream("solo");
    const denied = new URL(trip.callback);
    denied.search = new URLSearchParams({
      error: "access_denied",
      state: trip.callback.searchParams.get("state") as string,
      iss: upstreamIssuer,
    }).toString();
    const res = await trip.browser.fetch(denied.href);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("access_denied");
  });

  it("refuses a replayed authorization code (the pending sign-in is single use)", async () => {
    const trip = await travelToUpstream("solo");
    const first = await trip.browser.fetch(trip.callback.href);
    expect(first.status).toBe(303);
    const replay = await trip.browser.fetch(trip.callback.href);
    expect(replay.status).toBe(400);
  });

  it("is 404 when no upstream is configured", async () => {
    const browser = new TestBrowser();
    expect((await browser.fetch("/signin/upstream?return_to=%2F")).status).toBe(404);
    expect((await browser.fetch("/signin/callback?code=x&state=y")).status).toBe(404);
    const page = await browser.fetch("/signin");
    expect(hiddenField(await page.text(), "return_to")).toBe("/");
  });
});

describe("claims → identity (Google hd, Entra tid)", () => {
  const google = { issuer: "https://accounts.google.com", clientId: "c", clientSecret: "s" };
  const entra = { issuer: "https://login.microsoftonline.com/organizations/v2.0", clientId: "c", clientSecret: "s" };
  const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";

  it("maps Google's hd to an organization named after the domain", async () => {
    const id = identityFrom(
      google,
      { email: "A@Corp.Example", email_verified: true, name: "A", hd: "Corp.Example" },
      "t",
    );
    expect(id.email).toBe("a@corp.example");
    expect(id.organization).toMatchObject({ issuer: google.issuer, id: "corp.example" });
    expect(await id.organization?.describe()).toEqual({ name: "corp.example", primaryDomain: "corp.example" });
    expect(identityFrom(google, { email: "b@gmail.example", email_verified: true }, "t").organization).toBeNull();
  });

  it("maps Entra's tid to an organization; personal Microsoft accounts have none", () => {
    const work = identityFrom(entra, { email: "a@contoso.example", xms_edov: true, tid: tenant }, "t");
    expect(work.organization).toMatchObject({ issuer: entra.issuer, id: tenant });
    const personal = identityFrom(
      entra,
      { email: "a@outlook.example", xms_edov: true, tid: "9188040d-6c67-4c5b-b112-36a304b66dad" },
      "t",
    );
    expect(personal.organization).toBeNull();
    // hd means nothing coming from Entra.
    expect(identityFrom(entra, { email: "a@x.example", xms_edov: true, hd: "x.example" }, "t").organization).toBeNull();
  });

  it("requires a verified email: email_verified true (Entra: xms_edov true)", () => {
    const refused = (upstream: typeof google, claims: Record<string, unknown>) => {
      try {
        identityFrom(upstream, claims, "t");
      } catch (err) {
        return err instanceof UpstreamSignInError ? err.reason : "other error";
      }
      return "accepted";
    };
    expect(refused(google, { email: "a@b.example", email_verified: false })).toBe("email_unverified");
    expect(refused(google, { email: "a@b.example", email_verified: "yes" })).toBe("email_unverified");
    expect(refused(google, { email: "a@b.example", xms_edov: true })).toBe("email_unverified");
    expect(refused(entra, { email: "a@b.example", tid: tenant })).toBe("email_unverified");
    expect(refused(google, { email_verified: true })).toBe("email_missing");
    expect(refused(google, { email: "not-an-email", email_verified: true })).toBe("email_missing");
    expect(refused(entra, { email: "a@b.example", xms_edov: true, tid: tenant })).toBe("accepted");
  });

  it("strips control characters from the name and bounds it", () => {
    const id = identityFrom(
      google,
      { email: "a@b.example", email_verified: true, name: `  Ada\u0000\n ${"x".repeat(300)}` },
      "t",
    );
    expect(id.name?.startsWith("Ada x")).toBe(true);
    expect(id.name?.length).toBe(200);
  });
});

describe("team provisioning under concurrency", () => {
  it("two first sign-ins of one new organization at once make one team, one admin and one member", async () => {
    const db = dbOf(env.DB);
    let described = 0;
    const org = {
      issuer: "https://accounts.google.com",
      id: "race.example",
      describe: async () => {
        described++;
        return { name: "race.example", primaryDomain: "race.example" };
      },
    };
    const [a, b] = await Promise.all([
      provisionUpstreamUser(db, { email: "one@race.example", name: "One" }, org),
      provisionUpstreamUser(db, { email: "two@race.example", name: "Two" }, org),
    ]);
    expect(a.teamId).toBe(b.teamId);
    expect(await rows("SELECT id FROM teams WHERE upstream_org_id = 'race.example'")).toHaveLength(1);
    const roles = await rows<{ role: string }>(
      "SELECT role FROM memberships WHERE team_id = ? ORDER BY role",
      a.teamId,
    );
    expect(roles.map((r) => r.role)).toEqual(["admin", "member"]);
    expect(described).toBeGreaterThanOrEqual(1);
  });

  it("the same new person signing in twice at once is one user", async () => {
    const db = dbOf(env.DB);
    const person = { email: "twice@mail.example", name: "Twice" };
    const [a, b] = await Promise.all([
      provisionUpstreamUser(db, person, null),
      provisionUpstreamUser(db, person, null),
    ]);
    expect(a.user.id).toBe(b.user.id);
    expect(await rows("SELECT id FROM users WHERE email = 'twice@mail.example'")).toHaveLength(1);
    expect(await rows("SELECT user_id FROM memberships WHERE user_id = ?", a.user.id)).toHaveLength(1);
  });
});
