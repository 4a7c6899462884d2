/**
 * Team members end to end, against `wrangler dev`: the operator CLI (`npm run admin`: invite,
 * list-members, set-role, remove-member) and the /settings/members page in headless Chromium at
 * 375 px and 1280 px. A role change or a removal reaches a person's existing tokens before the command
 * or the form answers: introspection reports the effective scope at the time it is asked (RFC 7662
 * §2.2), a removed person's refresh token is refused (RFC 6749 §5.2 invalid_grant).
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminCli } from "./harness/admin-cli";
import { type BrowserSession, captureAtWidths, openBrowser, submitForm } from "./harness/browser";
import { type CallbackServer, startCallbackServer } from "./harness/callback";
import { pkcePair } from "./harness/pkce";
import { sharedWorker } from "./harness/server";

const worker = sharedWorker();
const base = worker.baseUrl;
const SCOPE = "openid profile ir.incidents:read ir.incidents:write";
const suffix = Date.now().toString(36);
const people = { invitee: `invitee-${suffix}@example.com`, later: `later-${suffix}@example.com` };

let adminBrowser: BrowserSession;
let personBrowser: BrowserSession;
let callback: CallbackServer;
const app = { id: "", secret: "" };

const cli = (...args: string[]) => adminCli(worker, ...args);

function cliJson<T>(...args: string[]): T {
  const run = cli(...args, "--json");
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

type Member = { user_id: string; email: string; role: string; on_call_role: string; connected_apps: number };
const members = () =>
  cliJson<{ members: Member[]; invitations: { id: string; email: string }[] }>("list-members", "--team", "team_demo");
const memberByEmail = async (email: string) => (await members()).members.find((m) => m.email === email);

const basic = () =>
  `Basic ${Buffer.from(`${encodeURIComponent(app.id)}:${encodeURIComponent(app.secret)}`).toString("base64")}`;

async function post(path: string, params: Record<string, string>) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: basic() },
    body: new URLSearchParams(params),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const introspect = (token: string) => post("/oauth/introspect", { token });

async function devSignIn(page: Page, email: string, returnTo = "/") {
  await page.goto(`${base}/signin?return_to=${encodeURIComponent(returnTo)}`);
  await submitForm(page, { email }, { form: 'form[action="/signin/dev"]' });
}

/** The signed-in person allows the app (automatic consent) and the app redeems the code. */
async function tokensOf(page: Page): Promise<{ access_token: string; refresh_token: string; scope: string }> {
  const { verifier, challenge } = await pkcePair();
  const query = new URLSearchParams({
    response_type: "code",
    client_id: app.id,
    redirect_uri: callback.redirectUri,
    scope: SCOPE,
    state: "members-e2e",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  await page.goto(`${base}/oauth/authorize?${query}`);
  const code = (await callback.next()).searchParams.get("code")!;
  const res = await post("/oauth/token", {
    grant_type: "authorization_code",
    code,
    code_verifier: verifier,
    redirect_uri: callback.redirectUri,
  });
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string; scope: string };
}

/** Both widths: no horizontal overflow, and a screenshot of each (test-results/screenshots/). */
const capture = (page: Page, name: string) => captureAtWidths(page, `members-${name}`);

beforeAll(async () => {
  adminBrowser = await openBrowser();
  personBrowser = await openBrowser();
  callback = await startCallbackServer();
  const created = await fetch(`${base}/api/admin/apps`, {
    method: "POST",
    headers: { Authorization: `Bearer ${worker.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      name: "Members e2e",
      type: "confidential",
      team_id: "team_demo",
      redirect_uris: [callback.redirectUri],
      scope: SCOPE,
      automatic_consent: true,
    }),
  });
  const body = (await created.json()) as { client_id: string; client_secret: string };
  Object.assign(app, { id: body.client_id, secret: body.client_secret });
});
afterAll(async () => {
  await adminBrowser?.close();
  await personBrowser?.close();
  await callback?.close();
});

describe("npm run admin: invite, list-members, set-role, remove-member", () => {
  let tokens: { access_token: string; refresh_token: string; scope: string };

  it("invites an email; the person joins with those roles at their dev sign-in", async () => {
    const invited = cli("invite", "--email", people.invitee, "--team", "team_demo", "--role", "member");
    expect(invited.status, invited.stderr).toBe(0);
    expect(invited.stdout).toContain(`Invited ${people.invitee} as member (on-call responder)`);
    expect((await members()).invitations.map((i) => i.email)).toContain(people.invitee);
    await devSignIn(personBrowser.page, people.invitee);
    expect(await memberByEmail(people.invitee)).toMatchObject({ role: "member", on_call_role: "responder" });
    expect((await members()).invitations.map((i) => i.email)).not.toContain(people.invitee);
    tokens = await tokensOf(personBrowser.page);
    expect(tokens.scope).toBe(SCOPE);
  });

  it("set-role demotes: the existing token's introspection loses write at once; promotes back", async () => {
    const person = (await memberByEmail(people.invitee))!;
    const demoted = cli("set-role", person.user_id, "--team", "team_demo", "--role", "observer");
    expect(demoted.status, demoted.stderr).toBe(0);
    expect((await introspect(tokens.access_token)).body.scope).toBe("openid profile ir.incidents:read");
    expect(cli("set-role", person.user_id, "--team", "team_demo", "--role", "member").status).toBe(0);
    expect((await introspect(tokens.access_token)).body.scope).toBe(SCOPE);
    const list = cli("list-members", "--team", "team_demo");
    expect(list.stdout).toMatch(new RegExp(`${people.invitee}\\s+member\\s+responder`));
  });

  it("withdraw-invitation: the invitation is gone from the list", async () => {
    const email = `withdrawn-${suffix}@example.com`;
    const invited = cliJson<{ id: string }>("invite", "--email", email, "--team", "team_demo");
    const withdrawn = cli("withdraw-invitation", invited.id);
    expect(withdrawn.status, withdrawn.stderr).toBe(0);
    expect((await members()).invitations.map((i) => i.email)).not.toContain(email);
    expect(cli("withdraw-invitation", invited.id).status).toBe(1);
  });

  it("refuses to demote or remove the last admin, and unknown people", async () => {
    const admin = (await memberByEmail("admin@example.com"))!;
    const demote = cli("set-role", admin.user_id, "--team", "team_demo", "--role", "member");
    expect(demote.status).toBe(1);
    expect(demote.stderr).toContain("at least one admin");
    expect(cli("remove-member", admin.user_id, "--team", "team_demo").status).toBe(1);
    const unknown = cli("remove-member", "usr_nobody", "--team", "team_demo");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("HTTP 404");
    expect(await memberByEmail("admin@example.com")).toMatchObject({ role: "admin" });
  });

  it("a mistyped option is one line naming it, not a stack trace, and nothing is sent", async () => {
    const before = await members();
    const typo = cli("set-role", "-Exyz", "--team", "team_demo", "--role", "observer");
    expect(typo.status).toBe(1);
    expect(typo.stderr).toMatch(/^admin: Unknown option '-E'\..*after '--'.*\(see --help\)\n$/);
    expect(typo.stderr).not.toContain("    at ");
    expect(await members()).toEqual(before);
  });

  it("remove-member: existing access and refresh tokens are refused at once", async () => {
    const person = (await memberByEmail(people.invitee))!;
    const removed = cli("remove-member", person.user_id, "--team", "team_demo");
    expect(removed.status, removed.stderr).toBe(0);
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    const refreshed = await post("/oauth/token", { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    expect({ status: refreshed.status, error: refreshed.body.error }).toEqual({ status: 400, error: "invalid_grant" });
    expect(await memberByEmail(people.invitee)).toBeUndefined();
  });
});

describe("the members page in Chromium", () => {
  let tokens: { access_token: string; refresh_token: string; scope: string };

  it("an admin sees the people at 375 and 1280 px and demotes one with the select (no script needed)", async () => {
    const { page } = adminBrowser;
    // A colleague signs in (dev sign-in: any other email joins Demo as member) and connects the app.
    await devSignIn(personBrowser.page, people.later);
    tokens = await tokensOf(personBrowser.page);
    await devSignIn(page, "admin@example.com", "/settings/members");
    expect(new URL(page.url()).pathname).toBe("/settings/members");
    expect(await page.locator("h1").textContent()).toBe("Members of Demo");
    await capture(page, "list");

    const person = (await memberByEmail(people.later))!;
    const form = `form:has(input[name="user_id"][value="${person.user_id}"])`;
    await page.selectOption(`${form} select[name="role"]`, "observer");
    await Promise.all([page.waitForNavigation(), page.click(`${form} button[type="submit"]`)]);
    expect(await page.locator("[role=status]").textContent()).toContain("roles were saved");
    expect((await introspect(tokens.access_token)).body.scope).toBe("openid profile ir.incidents:read");
  });

  it("invites and withdraws from the page", async () => {
    const { page } = adminBrowser;
    const email = `page-${suffix}@example.com`;
    await page.fill("#invite-email", email);
    await page.selectOption("#invite-role", "observer");
    await Promise.all([page.waitForNavigation(), page.click('form.invite button[type="submit"]')]);
    expect(await page.locator("ul.invitations").textContent()).toContain(email);
    await capture(page, "invited");
    await Promise.all([
      page.waitForNavigation(),
      page.click(`button[aria-label="Withdraw the invitation of ${email}"]`),
    ]);
    expect(await page.locator("main").textContent()).toContain("withdrawn");
    expect((await members()).invitations.map((i) => i.email)).not.toContain(email);
  });

  it("removes after the confirmation page; the person's tokens stop at once", async () => {
    const { page } = adminBrowser;
    await page.goto(`${base}/settings/members`);
    await Promise.all([page.waitForNavigation(), page.click(`a[aria-label="Remove ${people.later}"]`)]);
    expect(await page.locator("h1").textContent()).toBe(`Remove ${people.later} from Demo?`);
    await capture(page, "confirm-remove");
    await Promise.all([page.waitForNavigation(), page.click('main form button[type="submit"]')]);
    expect(await page.locator("[role=status]").textContent()).toContain("removed");
    expect((await introspect(tokens.access_token)).body).toEqual({ active: false });
    // Their browser session ended too: the settings page sends them to sign in.
    await personBrowser.page.goto(`${base}/settings/connected-apps`);
    expect(new URL(personBrowser.page.url()).pathname).toBe("/signin");
  });

  it("a member gets the 403 page", async () => {
    const { page } = personBrowser;
    await devSignIn(page, "member@example.com");
    const res = await page.goto(`${base}/settings/members`);
    expect(res?.status()).toBe(403);
    await capture(page, "forbidden");
  });
});
