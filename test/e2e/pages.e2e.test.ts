/**
 * Every page as a person sees it, in headless Chromium against `wrangler dev`: axe-core's WCAG 2.0/2.1
 * A and AA rules (zero violations), no sideways scrolling at 375 and 1280 px, a screenshot of each
 * (test-results/screenshots/pages-*), and the consent page's height for an app asking
 * `openid profile email offline_access ir.all oc.alerts:read` (one laptop screen when collapsed).
 * The consent form's area switch is exercised without script: unticking it refuses the whole area.
 */
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserSession, openBrowser, screenshot, submitForm } from "./harness/browser";
import { type CallbackServer, startCallbackServer } from "./harness/callback";
import { pkcePair } from "./harness/pkce";
import { sharedWorker } from "./harness/server";

const base = sharedWorker().baseUrl;
const WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
const WIDTHS = [375, 1280] as const;
/** The example of the consent page: every sign-in scope, all of incident response, one on-call scope. */
const EXAMPLE_SCOPE = "openid profile email offline_access ir.all oc.alerts:read";
const CONSENT_MAX_HEIGHT_1280 = 1100;

let member: BrowserSession;
let admin: BrowserSession;
let callback: CallbackServer;
/** What the run measured, printed at the end for the report. */
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  member = await openBrowser();
  admin = await openBrowser();
  callback = await startCallbackServer();
});
afterAll(async () => {
  console.log(`pages.e2e figures ${JSON.stringify(figures)}`);
  await member?.close();
  await admin?.close();
  await callback?.close();
});

interface Layout {
  scroll: number;
  inner: number;
  height: number;
}

// Strings run in the page (this file is type-checked without the DOM library).
const layout = (page: Page) =>
  page.evaluate<Layout>(
    "({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth, height: document.documentElement.scrollHeight })",
  );

/**
 * At both widths: no horizontal overflow, zero axe violations of the WCAG 2.1 A/AA rules, a
 * screenshot. Returns the page height at each width.
 */
async function check(page: Page, name: string): Promise<Record<number, number>> {
  const heights: Record<number, number> = {};
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    const { scroll, inner, height } = await layout(page);
    expect(scroll, `${name} overflows at ${width}px`).toBeLessThanOrEqual(inner);
    const results = await new AxeBuilder({ page }).withTags(WCAG_21_AA).analyze();
    const violations = results.violations.map(
      (v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
    );
    expect(violations, `${name} at ${width}px`).toEqual([]);
    figures[`axe ${name} ${width}`] = `${results.passes.length} rules passed, 0 violations`;
    heights[width] = height;
    await screenshot(page, `pages-${name}-${width}`);
  }
  return heights;
}

async function signIn(page: Page, email: string, returnTo: string) {
  await page.goto(`${base}${returnTo}`);
  await submitForm(page, { email }, { form: 'form[action="/signin/dev"]' });
  expect(new URL(page.url()).pathname).toBe(returnTo.split("?")[0]);
}

/** Open every <details> of the page the way a person does: a click on its summary. */
async function expandAll(page: Page) {
  const closed = page.locator("details:not([open]) > summary");
  while ((await closed.count()) > 0) await closed.first().click();
}

async function registerClient(name: string) {
  const res = await fetch(`${base}/oauth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      client_name: name,
      redirect_uris: [callback.redirectUri],
      token_endpoint_auth_method: "none",
      grant_types: ["authorization_code", "refresh_token"],
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { client_id: string }).client_id;
}

describe("pages a person reads, signed out", () => {
  it("sign-in page", async () => {
    await member.page.goto(`${base}/signin`);
    await check(member.page, "signin");
  });

  it("error page (unknown client at /oauth/authorize, RFC 6749 §4.1.2.1: no redirect)", async () => {
    const res = await member.page.goto(`${base}/oauth/authorize?client_id=nobody&response_type=code`);
    expect(res?.status()).toBe(400);
    await check(member.page, "error");
  });
});

describe("the consent page for the example request (grouped by area and level)", () => {
  let clientId = "";
  let verifier = "";

  it("fits one laptop screen collapsed, passes axe collapsed and expanded at both widths", async () => {
    const { page } = member;
    clientId = await registerClient("Deploy bot");
    const pkce = await pkcePair();
    verifier = pkce.verifier;
    const query = new URLSearchParams({
      response_type: "code",
      client_id: clientId,
      redirect_uri: callback.redirectUri,
      scope: EXAMPLE_SCOPE,
      state: "pages",
      code_challenge: pkce.challenge,
      code_challenge_method: "S256",
    });
    await signIn(page, "member@example.com", `/oauth/authorize?${query}`);
    expect(await page.locator("h1").textContent()).toContain("Deploy bot");
    // 34 scopes requested; a member can grant 25, offered as boxes inside three closed areas.
    expect(await page.locator('input[name="scope"]').count()).toBe(4 + 20 + 1);
    expect(await page.locator('input[name="area"]:checked').count()).toBe(3);
    expect(await page.locator("details[open]").count()).toBe(0);
    expect(await page.locator("#area-ir-why").textContent()).toContain("incident response role (member)");

    const collapsed = await check(page, "consent-collapsed");
    figures["consent collapsed height 375"] = collapsed[375] as number;
    figures["consent collapsed height 1280"] = collapsed[1280] as number;
    expect(collapsed[1280]).toBeLessThan(CONSENT_MAX_HEIGHT_1280);

    // Keyboard: Tab reaches each area's switch, then its disclosure, then the buttons, in reading
    // order (WCAG 2.4.3), and each shows the focus ring (WCAG 2.4.7: :focus-visible in style.ts).
    const order: string[] = [];
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      const seen = await page.evaluate<{ what: string; outline: string }>(`(() => {
        const e = document.activeElement;
        const s = getComputedStyle(e);
        const what = e.tagName === "INPUT" ? e.name + "=" + e.value : e.tagName === "BUTTON" ? e.value : e.tagName === "SUMMARY" ? "summary" : e.textContent.trim();
        return { what, outline: s.outlineStyle + " " + s.outlineWidth };
      })()`);
      expect(seen.outline, `focus ring on ${seen.what}`).toBe("solid 3px");
      order.push(seen.what);
    }
    expect(order).toEqual([
      "Skip to content",
      "edge-oidc",
      "area=signin",
      "summary",
      "area=ir",
      "summary",
      "area=oc",
      "summary",
      "approve",
      "deny",
    ]);

    await expandAll(page);
    expect(await page.locator("details[open]").count()).toBe(3);
    const expanded = await check(page, "consent-expanded");
    figures["consent expanded height 375"] = expanded[375] as number;
    figures["consent expanded height 1280"] = expanded[1280] as number;
    // Expanding shows the rows: the page must actually grow (so the collapsed figure means something).
    expect(expanded[1280]).toBeGreaterThan((collapsed[1280] as number) + 300);
  });

  it("without script, an unticked area switch refuses the area and an unticked row its scope", async () => {
    const { page } = member;
    await expandAll(page);
    // The rows of incident response stay ticked; only the area's switch is unticked.
    await page.locator('input[name="area"][value="ir"]').setChecked(false);
    await page.locator('input[name="scope"][value="offline_access"]').setChecked(false);
    // CSS alone says the area is refused (.area-off shown when its switch is unticked).
    expect(await page.locator("#area-ir-group .area-off").isVisible()).toBe(true);
    expect(await page.locator('#area-ir-group input[name="scope"]:checked').count()).toBe(20);
    await screenshot(page, "pages-consent-area-refused-1280");
    await page.click('button[value="approve"]');
    const code = (await callback.next()).searchParams.get("code");
    expect(code).toBeTruthy();
    const res = await fetch(`${base}/oauth/token`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: code as string,
        code_verifier: verifier,
        redirect_uri: callback.redirectUri,
        client_id: clientId,
      }),
    });
    const tokens = (await res.json()) as { scope: string };
    expect(res.status).toBe(200);
    // RFC 6749 §3.3: the granted scope differs from the request, and says so.
    expect(tokens.scope).toBe("openid profile email oc.alerts:read");
  });

  it("account and connected apps show the same grouping", async () => {
    const { page } = member;
    await page.goto(`${base}/`);
    await check(page, "account");
    await page.goto(`${base}/settings/connected-apps`);
    const card = (await page.locator("li.card").first().textContent()) ?? "";
    expect(card).toContain("Deploy bot");
    expect(card).toContain("View alerts");
    await check(page, "connected-apps");
  });

  it("a member is refused the admin pages with an accessible 403 page", async () => {
    const res = await member.page.goto(`${base}/settings/audit`);
    expect(res?.status()).toBe(403);
    await check(member.page, "forbidden");
  });
});

describe("pages reached from a device or an app (RFC 8628 §3.3, RP-Initiated Logout 1.0 §2)", () => {
  it("the device code page and an unknown code's answer", async () => {
    const { page } = member;
    await page.goto(`${base}/device`);
    expect(await page.locator("input[name=user_code]").count()).toBe(1);
    await check(page, "device-code");
    await page.fill("input[name=user_code]", "BCDF-GHJK");
    await Promise.all([page.waitForNavigation(), page.click('form[action="/device"] button[type="submit"]')]);
    expect(await page.locator("[role=alert]").count()).toBeGreaterThan(0);
    await check(page, "device-code-unknown");
  });

  it("the sign-out question when the request does not prove which app asks", async () => {
    const { page } = member;
    await page.goto(`${base}/oauth/end_session`);
    expect(await page.locator('form[action="/oauth/end_session"]').count()).toBe(1);
    await check(page, "end-session-confirm");
  });
});

describe("the admin's pages", () => {
  let appUrl = "";

  it("OAuth applications: list, new (kind, then form with the grouped picker), credentials, edit", async () => {
    const { page } = admin;
    await signIn(page, "admin@example.com", "/settings/oauth-applications");
    await check(page, "apps-list");
    await page.goto(`${base}/settings/oauth-applications/new`);
    await check(page, "apps-new-kind");
    await page.goto(`${base}/settings/oauth-applications/new?type=confidential`);
    await check(page, "apps-new-form");
    await expandAll(page);
    await check(page, "apps-new-form-expanded");
    await submitForm(
      page,
      {
        name: "Pages e2e app",
        redirect_uris: callback.redirectUri,
        "scope=openid": true,
        "scope=ir.all": true,
        "scope=oc.alerts:read": true,
      },
      { form: 'form[action="/settings/oauth-applications"]' },
    );
    expect(await page.inputValue("#client-id")).toBeTruthy();
    await check(page, "apps-credentials");
    const clientId = await page.inputValue("#client-id");
    appUrl = `${base}/settings/oauth-applications/${encodeURIComponent(clientId)}`;
    await page.goto(appUrl);
    // The picker groups as the consent page: the ir.all box expanded to every ir scope on the server.
    expect(await page.locator("#area-ir-hint").textContent()).toContain(
      "view and change 15 kinds of incident response data",
    );
    await check(page, "apps-edit");
    await page.goto(`${base}/settings/oauth-applications/nope`);
    await check(page, "apps-not-found");
  });

  it("members: the list with its role pickers and invitations, and the removal question", async () => {
    const { page } = admin;
    await page.goto(`${base}/settings/members`);
    expect(await page.locator("select").count()).toBeGreaterThan(0);
    await check(page, "members");
    const remove = page.locator('a[href*="/remove?"]').first();
    await Promise.all([page.waitForNavigation(), remove.click()]);
    expect(new URL(page.url()).pathname).toMatch(/^\/settings\/members\/[^/]+\/remove$/);
    await check(page, "members-remove-confirm");
  });

  it("audit log: sentences, filters, 30-day chart", async () => {
    const { page } = admin;
    await page.goto(`${base}/settings/audit`);
    const text = (await page.locator("ol.events").textContent()) ?? "";
    expect(text).toContain("member@example.com allowed Deploy bot to view alerts");
    expect(await page.locator("section.chart svg[role=img] title").count()).toBe(1);
    await check(page, "audit");
    await page.selectOption("select#person", { label: "member@example.com" });
    await page.selectOption("select#kind", "consent.granted");
    await Promise.all([page.waitForNavigation(), page.click('form.filter button[type="submit"]')]);
    const url = new URL(page.url());
    expect(url.searchParams.get("kind")).toBe("consent.granted");
    expect(url.searchParams.get("person")).toBeTruthy();
    const sentences = await page.locator("ol.events p.sentence").allTextContents();
    expect(sentences.length).toBeGreaterThan(0);
    expect(sentences.every((s) => s.startsWith("member@example.com allowed"))).toBe(true);
    await expandAll(page);
    await check(page, "audit-filtered-expanded");
  });
});
