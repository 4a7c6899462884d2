import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";
import type { Env } from "../src/config";
import { STYLESHEET_PATH } from "../src/pages/style";
import { hiddenField, TestBrowser } from "./signin-browser";

/** Opens the sign-in page (which sets the CSRF cookie) and signs in through the dev form. */
async function devSignIn(browser: TestBrowser, email: string, extra: Record<string, string> = {}) {
  const page = await browser.fetch("/signin");
  const csrf = hiddenField(await page.text(), "csrf");
  return browser.post("/signin/dev", { csrf, email, return_to: "/", ...extra });
}

async function rows<T>(sql: string, ...params: unknown[]): Promise<T[]> {
  return (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<T>()
  ).results;
}

function setCookieNamed(res: Response, name: string): string {
  const found = res.headers.getSetCookie().filter((h) => h.startsWith(`${name}=`));
  const last = found.at(-1);
  if (!last) throw new Error(`no Set-Cookie for ${name}`);
  return last;
}

describe("dev sign-in (README 'Two commands': dev sign-in)", () => {
  it("signs a seeded user in as themselves with an HttpOnly, SameSite=Lax session cookie, not Secure on loopback http", async () => {
    const browser = new TestBrowser();
    const res = await devSignIn(browser, "Admin@Example.com");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookie = setCookieNamed(res, "eoidc_session");
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i);

    const home = await browser.fetch("/");
    expect(home.status).toBe(200);
    const html = await home.text();
    expect(html).toContain("admin@example.com");
    expect(html).toContain("Demo");
    expect(html).toContain('href="/settings/oauth-applications"');
    expect(html).toContain('href="/settings/audit"');
    expect(html).toContain('href="/settings/connected-apps"');
    const [session] = await rows<{ user_id: string }>(
      "SELECT user_id FROM sessions WHERE user_id = ?",
      "usr_demo_admin",
    );
    expect(session?.user_id).toBe("usr_demo_admin");
  });

  it("puts a new email in the Demo team as member/responder, lower-cased, with the name typed", async () => {
    const browser = new TestBrowser();
    const res = await devSignIn(browser, "New.Person@Elsewhere.Example", { name: "New Person" });
    expect(res.status).toBe(303);
    const [user] = await rows<{ id: string; email: string; name: string; kind: string }>(
      "SELECT id, email, name, kind FROM users WHERE email = ?",
      "new.person@elsewhere.example",
    );
    expect(user).toMatchObject({ email: "new.person@elsewhere.example", name: "New Person", kind: "human" });
    const memberships = await rows<{ team_id: string; role: string; on_call_role: string }>(
      "SELECT team_id, role, on_call_role FROM memberships WHERE user_id = ?",
      user?.id,
    );
    expect(memberships).toEqual([{ team_id: "team_demo", role: "member", on_call_role: "responder" }]);
    const home = await (await browser.fetch("/")).text();
    expect(home).toContain("new.person@elsewhere.example");
    expect(home).not.toContain("/settings/oauth-applications"); // members get no admin links

    // Signing in again is the same user, not a second one.
    await devSignIn(new TestBrowser(), "new.person@elsewhere.example");
    expect(await rows("SELECT id FROM users WHERE email = ?", "new.person@elsewhere.example")).toHaveLength(1);
  });

  it("keeps a seeded member's role and name (dev sign-in never promotes or renames)", async () => {
    await devSignIn(new TestBrowser(), "member@example.com", { name: "Someone Else" });
    const [row] = await rows<{ name: string; role: string }>(
      "SELECT u.name, m.role FROM users u JOIN memberships m ON m.user_id = u.id WHERE u.email = ?",
      "member@example.com",
    );
    expect(row).toEqual({ name: "Demo Member", role: "member" });
  });

  it("refuses an invalid email with the form again (400) and creates nobody", async () => {
    const browser = new TestBrowser();
    const res = await devSignIn(browser, "not-an-email");
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('value="not-an-email"');
    expect(await rows("SELECT id FROM users WHERE email = ?", "not-an-email")).toHaveLength(0);
    expect(browser.cookie("eoidc_session")).toBeUndefined();
  });

  it("is 404 when DEV_SIGNIN is off, and the page shows no dev form", async () => {
    const off = { ...env, DEV_SIGNIN: "false" } as Env;
    const browser = new TestBrowser(off);
    const page = await browser.fetch("/signin");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toContain('action="/signin/dev"');
    const csrf = hiddenField(await (await new TestBrowser().fetch("/signin")).text(), "csrf");
    browser.setCookie("eoidc_csrf", csrf);
    const res = await browser.post("/signin/dev", { csrf, email: "admin@example.com" });
    expect(res.status).toBe(404);
    expect(res.headers.get("set-cookie") ?? "").not.toContain("eoidc_session");
  });

  it("is 404 when the issuer is not loopback, even with DEV_SIGNIN on", async () => {
    const publicIssuer = {
      ...env,
      ISSUER: "https://auth.example.com",
      KEY_ENCRYPTION_SECRET: "k".repeat(48),
      DEV_SIGNIN: "true",
    } as Env;
    const req = new Request("https://auth.example.com/signin/dev", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: "__Host-eoidc_csrf=x" },
      body: "csrf=x&email=admin%40example.com",
    });
    const res = await app.fetch(req, publicIssuer);
    expect(res.status).toBe(404);
    expect(res.headers.getSetCookie().some((c) => c.includes("session"))).toBe(false);
  });
});

describe("CSRF on every form (docs/security.md: forms carry CSRF protection)", () => {
  it("refuses a dev sign-in without, or with a wrong, CSRF token (403 page, no session)", async () => {
    const browser = new TestBrowser();
    const csrf = hiddenField(await (await browser.fetch("/signin")).text(), "csrf");
    const missing = await browser.post("/signin/dev", { email: "admin@example.com" });
    expect(missing.status).toBe(403);
    expect(missing.headers.get("content-type")).toContain("text/html");
    const flipped = `${csrf.slice(0, -1)}${csrf.endsWith("A") ? "B" : "A"}`;
    const wrong = await browser.post("/signin/dev", { csrf: flipped, email: "admin@example.com" });
    expect(wrong.status).toBe(403);
    // The right token sent from another site's page (Origin) is refused too.
    const crossSite = await browser.post(
      "/signin/dev",
      { csrf, email: "admin@example.com" },
      { Origin: "https://evil.example" },
    );
    expect(crossSite.status).toBe(403);
    expect(browser.cookie("eoidc_session")).toBeUndefined();
  });

  it("refuses a sign-out without the CSRF token and keeps the session", async () => {
    const browser = new TestBrowser();
    await devSignIn(browser, "observer@example.com");
    const res = await browser.post("/signout", {});
    expect(res.status).toBe(403);
    expect((await browser.fetch("/")).status).toBe(200);
  });

  it("answers an oversized form with 413, not a 500", async () => {
    const browser = new TestBrowser();
    const csrf = hiddenField(await (await browser.fetch("/signin")).text(), "csrf");
    const res = await browser.post("/signin/dev", { csrf, email: "a@example.com", name: "x".repeat(20_000) });
    expect(res.status).toBe(413);
  });
});

describe("return_to is a same-origin path only (RFC 9700 §4.11: no open redirector)", () => {
  const attempts = [
    "//evil.example",
    "https://evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "/\t/evil.example",
    "evil.example",
    "",
    // Dot segments, encoded dots and slashes, backslashes and tabs that normalise to "//evil.example".
    "/.//evil.example/x",
    "/..//evil.example/x",
    "/%2e//evil.example/x",
    "/%2E%2E//evil.example/x",
    "/./%2f/evil.example/x",
    "/%2f%2fevil.example/x",
    "/%5c/evil.example/x",
    "/./\\/evil.example/x",
    "/.\t//evil.example/x",
    "/a/../..//evil.example/x",
  ];
  for (const attempt of attempts) {
    it(`sends ${JSON.stringify(attempt)} to "/"`, async () => {
      const res = await devSignIn(new TestBrowser(), "member@example.com", { return_to: attempt });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/");
    });
  }

  it("keeps a same-origin authorization request path and query", async () => {
    const back = "/oauth/authorize?client_id=abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s%26t";
    const res = await devSignIn(new TestBrowser(), "member@example.com", { return_to: back });
    expect(res.headers.get("location")).toBe(back);
  });

  it("carries return_to and login_hint from the sign-in link into the form, escaped", async () => {
    const back = "/oauth/authorize?client_id=abc&state=xyz";
    const hint = '"><script>alert(1)</script>@example.com';
    const res = await new TestBrowser().fetch(
      `/signin?return_to=${encodeURIComponent(back)}&login_hint=${encodeURIComponent(hint)}`,
    );
    const html = await res.text();
    expect(hiddenField(html, "return_to")).toBe("/oauth/authorize?client_id=abc&amp;state=xyz");
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;@example.com");
  });

  it("replaces an off-site return_to in the sign-in link with /", async () => {
    const html = await (await new TestBrowser().fetch("/signin?return_to=https%3A%2F%2Fevil.example%2F")).text();
    expect(hiddenField(html, "return_to")).toBe("/");
  });

  for (const attempt of attempts.filter((a) => a.startsWith("/"))) {
    it(`renders neither a form field nor a 'continue' link to ${JSON.stringify(attempt)} on /signin`, async () => {
      const browser = new TestBrowser();
      await devSignIn(browser, "member@example.com");
      const html = await (await browser.fetch(`/signin?return_to=${encodeURIComponent(attempt)}`)).text();
      expect(hiddenField(html, "return_to")).toBe("/");
      expect(html).toContain('href="/"');
      expect(html).not.toContain("evil.example");
    });
  }

  it("keeps a harmless dot segment's normalised path", async () => {
    const res = await devSignIn(new TestBrowser(), "member@example.com", { return_to: "/settings/./connected-apps" });
    expect(res.headers.get("location")).toBe("/settings/connected-apps");
  });
});

describe("sessions and sign-out", () => {
  it("offers 'continue' to a signed-in visitor, but not with prompt=login (OIDC Core §3.1.2.1)", async () => {
    const browser = new TestBrowser();
    await devSignIn(browser, "member@example.com");
    const signedIn = await (await browser.fetch("/signin?return_to=%2Fnext")).text();
    expect(signedIn).toContain("Continue as member@example.com");
    expect(signedIn).toContain('href="/next"');
    const forced = await (await browser.fetch("/signin?return_to=%2Fnext&prompt=login")).text();
    expect(forced).not.toContain("Continue as");
  });

  it("replaces the session on a new sign-in (no session fixation)", async () => {
    const browser = new TestBrowser();
    await devSignIn(browser, "member@example.com");
    const first = browser.cookie("eoidc_session");
    await devSignIn(browser, "observer@example.com");
    const second = browser.cookie("eoidc_session");
    expect(second).toBeTruthy();
    expect(second).not.toBe(first);
    const stale = new TestBrowser();
    stale.setCookie("eoidc_session", first as string);
    expect((await stale.fetch("/")).status).toBe(302);
  });

  it("ends the session server-side on sign-out: the old cookie no longer works", async () => {
    const browser = new TestBrowser();
    await devSignIn(browser, "admin@example.com");
    const old = browser.cookie("eoidc_session") as string;
    const home = await (await browser.fetch("/")).text();
    const res = await browser.post("/signout", { csrf: hiddenField(home, "csrf") });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/signin");
    expect(setCookieNamed(res, "eoidc_session")).toMatch(/Max-Age=0/i);

    const replay = new TestBrowser();
    replay.setCookie("eoidc_session", old);
    const after = await replay.fetch("/");
    expect(after.status).toBe(302);
    expect(after.headers.get("location")).toBe("/signin");
  });

  it("redirects a signed-out visitor from / to /signin", async () => {
    const res = await new TestBrowser().fetch("/");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/signin");
  });
});

describe("audit (README 'Administration': sign-in is a security event)", () => {
  it("records sign-in (method, team, actor, ip) and sign-out", async () => {
    const browser = new TestBrowser();
    const page = await browser.fetch("/signin");
    const csrf = hiddenField(await page.text(), "csrf");
    await browser.post("/signin/dev", { csrf, email: "observer@example.com" }, { "CF-Connecting-IP": "203.0.113.7" });
    const [signin] = await rows<{ team_id: string; actor_user_id: string; ip: string; detail: string }>(
      "SELECT team_id, actor_user_id, ip, detail FROM audit_events WHERE kind = 'signin' AND ip = ? ORDER BY id DESC",
      "203.0.113.7",
    );
    expect(signin).toMatchObject({ team_id: "team_demo", actor_user_id: "usr_demo_observer", ip: "203.0.113.7" });
    expect(JSON.parse(signin?.detail ?? "{}")).toMatchObject({ method: "dev" });

    await browser.post("/signout", { csrf }, { "CF-Connecting-IP": "203.0.113.8" });
    const [signout] = await rows<{ team_id: string; actor_user_id: string }>(
      "SELECT team_id, actor_user_id FROM audit_events WHERE kind = 'signout' AND ip = ?",
      "203.0.113.8",
    );
    expect(signout).toEqual({ team_id: "team_demo", actor_user_id: "usr_demo_observer" });
  });
});

describe("page security headers (README 'Endpoints': pages send frame-ancestors 'none'; never CORS)", () => {
  // The sign-in page, a redirect (/ signed out) and an error page (/signin/callback without upstream).
  it.each(["/signin", "/", "/signin/callback"])(
    "%s carries CSP, nosniff, a same-origin referrer policy, no-store and no CORS",
    async (path) => {
      const res = await new TestBrowser().fetch(path, { headers: { Origin: "https://app.example" } });
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("form-action 'self'");
      expect(csp).not.toContain("script-src");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      // same-origin, not no-referrer: Chromium sends Origin: null on same-origin form posts under no-referrer.
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    },
  );

  it("answers no CORS preflight on pages", async () => {
    const res = await new TestBrowser().fetch("/signin/dev", {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("serves the stylesheet from our origin with a long cache, and nothing else under /assets", async () => {
    const html = await (await new TestBrowser().fetch("/signin")).text();
    expect(html).toContain(`<link rel="stylesheet" href="${STYLESHEET_PATH}"/>`);
    const css = await new TestBrowser().fetch(STYLESHEET_PATH);
    expect(css.status).toBe(200);
    expect(css.headers.get("content-type")).toContain("text/css");
    expect(css.headers.get("cache-control")).toContain("immutable");
    expect(await css.text()).toContain(":focus-visible");
    expect((await new TestBrowser().fetch("/assets/other.css")).status).toBe(404);
  });

  it("shows no upstream button when no upstream is configured", async () => {
    const html = await (await new TestBrowser().fetch("/signin")).text();
    expect(html).not.toContain("Sign in with");
  });
});
