/**
 * /settings/connected-apps (every signed-in person sees and revokes the apps they allowed) and
 * /settings/audit (team admins read the security events), and "Sign out everywhere" on the account
 * page (README "Administration"). Revocation
 * is checked where it matters: /oauth/userinfo (RFC 6750 §3.1) and the refresh grant (RFC 6749 §5.2).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { recordAudit } from "../src/store/audit";
import { dbOf } from "../src/store/db";
import { call } from "./helpers";
import {
  authorizeUrl,
  createTestClient,
  DEMO,
  exchangeCode,
  obtainCode,
  pkcePair,
  tokenRequest,
} from "./oauth-helpers";
import { auditOf, elements, type Person, page, signedIn, textOf, userinfo } from "./settings-browser";

const CONNECTED = "/settings/connected-apps";

let admin: Person;
let member: Person;
let observer: Person;

beforeAll(async () => {
  admin = await signedIn(DEMO.admin);
  member = await signedIn(DEMO.member);
  observer = await signedIn(DEMO.observer);
  await env.DB.prepare("INSERT INTO teams (id, name) VALUES ('team_other', 'Other')").run();
});

async function namedClient(name: string, automaticConsent: boolean) {
  const client = await createTestClient({ teamId: DEMO.team, automaticConsent });
  await env.DB.prepare("UPDATE clients SET name = ? WHERE id = ?").bind(name, client.id).run();
  return client;
}

/** The person allows the app on the real consent page, then the app redeems the code. */
async function allowThroughConsentPage(person: Person, client: Awaited<ReturnType<typeof namedClient>>) {
  const { verifier, challenge } = await pkcePair();
  const consent = await page(
    await person.get(authorizeUrl(client, challenge, { scope: "openid ir.incidents:read offline_access" })),
    200,
  );
  const hidden = (await elements(consent, "form input[type=hidden]"))
    .filter((i) => i.name !== "csrf")
    .map((i): [string, string] => [i.name!, i.value ?? ""]);
  const res = await person.post("/oauth/authorize/decision", [
    ...hidden,
    ["scope", "openid"],
    ["scope", "ir.incidents:read"],
    // The area switches, ticked on the page (scope-groups.ts: an area not posted is refused).
    ["area", "signin"],
    ["area", "ir"],
    ["decision", "approve"],
  ]);
  expect(res.status).toBe(302);
  const code = new URL(res.headers.get("location")!).searchParams.get("code")!;
  const tokens = await exchangeCode(client, code, verifier);
  expect(tokens.status).toBe(200);
  return (await tokens.json()) as { access_token: string; refresh_token: string };
}

const consentRow = (userId: string, clientId: string) =>
  env.DB.prepare("SELECT scopes FROM consents WHERE user_id = ? AND client_id = ?").bind(userId, clientId).first();

describe("connected apps", () => {
  it("lists an app the person allowed on the consent page: what it may do, when, a revoke form", async () => {
    const client = await namedClient("Incident Radar", false);
    await allowThroughConsentPage(member, client);
    const html = await page(await member.get(CONNECTED), 200);
    const card = await textOf(html, "li.card");
    expect(card).toContain("Incident Radar");
    // Grouped as on the consent page (scope-groups.ts): the area, its level, one line.
    expect(card).toContain("Sign-in Know who you are (openid)");
    expect(card).toContain("Incident responseview View incidents");
    expect(card).toContain("UTC");
    const forms = await elements(html, `form[action="${CONNECTED}"] input`);
    expect(forms).toContainEqual({ type: "hidden", name: "client_id", value: client.id });
    expect(forms).toContainEqual({ type: "hidden", name: "csrf", value: member.csrf });
    // Someone else's connections are not shown.
    expect(await (await observer.get(CONNECTED)).text()).not.toContain("Incident Radar");
  });

  it("revokes one: consent gone, its tokens dead at once, the others' tokens alive, audited", async () => {
    const client = await namedClient("Pager Bridge", false);
    const mine = await allowThroughConsentPage(member, client);
    const theirs = await allowThroughConsentPage(admin, client);
    expect((await userinfo(mine.access_token)).status).toBe(200);

    const res = await member.post(CONNECTED, { client_id: client.id });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${CONNECTED}?done=revoked`);
    expect(await consentRow(DEMO.member, client.id)).toBeNull();
    expect((await userinfo(mine.access_token)).status).toBe(401);
    const refresh = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: mine.refresh_token });
    expect(((await refresh.json()) as { error: string }).error).toBe("invalid_grant");
    // Only the member's connection ended.
    expect((await userinfo(theirs.access_token)).status).toBe(200);
    expect(await consentRow(DEMO.admin, client.id)).not.toBeNull();
    const audit = (await auditOf(client.id)).filter((e) => e.kind === "consent.revoked");
    expect(audit).toEqual([{ kind: "consent.revoked", actor_user_id: DEMO.member }]);
    const team = await env.DB.prepare(
      "SELECT team_id FROM audit_events WHERE kind = 'consent.revoked' AND client_id = ?",
    )
      .bind(client.id)
      .first<{ team_id: string }>();
    expect(team?.team_id).toBe(DEMO.team);

    const after = await page(await member.get(`${CONNECTED}?done=revoked`), 200);
    expect(await textOf(after, "[role=status]")).toContain("revoked");
    expect(await textOf(after, "li.card")).not.toContain("Pager Bridge");
  });

  it("lists and revokes an app the team trusts (automatic consent: tokens, no consent row)", async () => {
    const client = await namedClient("Team Dashboard", true);
    const { code, verifier } = await obtainCode(client, DEMO.member);
    const tokens = (await (await exchangeCode(client, code, verifier)).json()) as { access_token: string };
    const html = await page(await member.get(CONNECTED), 200);
    expect(await textOf(html, "li.card")).toContain("Team Dashboard");
    expect(await textOf(html, "li.card")).toContain("trusted by your team");
    expect((await member.post(CONNECTED, { client_id: client.id })).status).toBe(303);
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect(await textOf(await (await member.get(CONNECTED)).text(), "li.card")).not.toContain("Team Dashboard");
  });

  it("refuses a revoke without the CSRF token: 403, consent and tokens unchanged", async () => {
    const client = await namedClient("Kept App", false);
    const tokens = await allowThroughConsentPage(member, client);
    await page(await member.post(CONNECTED, { client_id: client.id }, { csrf: null }), 403);
    expect(await consentRow(DEMO.member, client.id)).not.toBeNull();
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    expect((await auditOf(client.id)).map((e) => e.kind)).not.toContain("consent.revoked");
  });

  it("answers an unknown app with a 404 page and records nothing", async () => {
    await page(await member.post(CONNECTED, { client_id: "no-such-client" }), 404);
    expect(await auditOf("no-such-client")).toEqual([]);
  });

  it("answers another team's app exactly like an unknown one, and writes nothing into that team's log", async () => {
    const foreign = await createTestClient({ teamId: "team_other" });
    const theirs = await member.post(CONNECTED, { client_id: foreign.id });
    const unknown = await member.post(CONNECTED, { client_id: "no-such-client-either" });
    expect(theirs.status).toBe(404);
    expect(await theirs.text()).toBe(await unknown.text());
    expect(await auditOf(foreign.id)).toEqual([]);
  });

  it("does not revoke an app of the team the person never connected, nor other people's grants of it", async () => {
    const client = await namedClient("Not Mine", false);
    const theirs = await allowThroughConsentPage(admin, client);
    await page(await member.post(CONNECTED, { client_id: client.id }), 404);
    expect((await userinfo(theirs.access_token)).status).toBe(200);
    expect(await consentRow(DEMO.admin, client.id)).not.toBeNull();
    expect((await auditOf(client.id)).map((e) => e.kind)).not.toContain("consent.revoked");
  });

  it("is for every signed-in person; admin links only for admins; signed out → sign-in", async () => {
    const html = await page(await observer.get(CONNECTED), 200);
    const links = (await elements(html, "nav.settings-nav a")).map((a) => a.href);
    expect(links).not.toContain("/settings/oauth-applications");
    const adminLinks = (await elements(await (await admin.get(CONNECTED)).text(), "nav.settings-nav a")).map(
      (a) => a.href,
    );
    expect(adminLinks).toContain("/settings/oauth-applications");
    const out = await call(CONNECTED, { redirect: "manual" });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe(`/signin?return_to=${encodeURIComponent(CONNECTED)}`);
  });
});

describe("audit log", () => {
  const teamEvents = async (kind?: string) =>
    (await env.DB.prepare(`SELECT count(*) AS n FROM audit_events WHERE team_id = ?${kind ? " AND kind = ?" : ""}`)
      .bind(...(kind ? [DEMO.team, kind] : [DEMO.team]))
      .first<{ n: number }>())!.n;

  beforeAll(async () => {
    const db = dbOf(env.DB);
    for (let n = 0; n < 55; n++) {
      await recordAudit(db, { kind: "signin", teamId: DEMO.team, actorUserId: DEMO.member, detail: { n } });
    }
    await recordAudit(db, { kind: "signin", teamId: "team_other", detail: { marker: "other-team" } });
  });

  it("shows the newest events first, 50 a page, and pages back with `before`", async () => {
    const total = await teamEvents();
    expect(total).toBeGreaterThan(50);
    const first = await page(await admin.get("/settings/audit"), 200);
    expect(await elements(first, "ol.events > li")).toHaveLength(50);
    expect(await textOf(first, "ol.events > li:first-child code.detail")).toBe('{"n":54}');
    // The event as a sentence (audit-sentence.ts), the raw detail behind a <details>.
    expect(await textOf(first, "ol.events > li:first-child p.sentence")).toBe(
      "member@example.com signed in through the organization's sign-in.",
    );
    expect(await elements(first, "ol.events > li:first-child details code.detail")).toHaveLength(1);
    const older = (await elements(first, "nav.pager a")).find((a) => a.href?.includes("before="));
    expect(older).toBeDefined();
    const second = await page(await admin.get(older!.href!), 200);
    expect(await elements(second, "ol.events > li")).toHaveLength(total - 50);
    // Never another team's events.
    expect(first + second).not.toContain("other-team");
  });

  it("filters by kind, and the filter survives paging", async () => {
    const html = await page(await admin.get("/settings/audit?kind=signin"), 200);
    const codes = await elements(html, "ol.events > li");
    expect(codes).toHaveLength(Math.min(50, await teamEvents("signin")));
    const kinds = await textOf(html, "ol.events > li p.field-hint code");
    expect(kinds.replaceAll("signin", "")).toBe("");
    const older = (await elements(html, "nav.pager a")).find((a) => a.href?.includes("before="));
    expect(new URL(older!.href!, "http://x").searchParams.get("kind")).toBe("signin");
    expect((await elements(html, "select#kind option[selected]"))[0]?.value).toBe("signin");
  });

  it("filters by app and by person on the server (query parameters), offering who and what the log holds", async () => {
    const client = await namedClient("Filtered App", false);
    await allowThroughConsentPage(member, client);
    await allowThroughConsentPage(admin, client);
    const byApp = await page(await admin.get(`/settings/audit?app=${encodeURIComponent(client.id)}`), 200);
    const sentences = await textOf(byApp, "ol.events p.sentence");
    expect(await elements(byApp, "ol.events > li")).toHaveLength(2);
    expect(sentences).toContain("member@example.com allowed Filtered App to view incidents and know who they are.");
    expect(sentences).toContain("admin@example.com allowed Filtered App");
    expect((await elements(byApp, "select#app option[selected]"))[0]?.value).toBe(client.id);
    const options = (await elements(byApp, "select#person option")).map((o) => o.value);
    expect(options).toEqual(expect.arrayContaining(["", DEMO.member, DEMO.admin]));
    const both = await page(
      await admin.get(
        `/settings/audit?app=${encodeURIComponent(client.id)}&person=${DEMO.member}&kind=consent.granted`,
      ),
      200,
    );
    expect(await elements(both, "ol.events > li")).toHaveLength(1);
    expect(await textOf(both, "ol.events p.sentence")).toContain("member@example.com allowed Filtered App");
  });

  it("draws the last 30 days as an accessible SVG (title, description, a table of the same numbers)", async () => {
    const html = await page(await admin.get("/settings/audit"), 200);
    const [svg] = await elements(html, "section.chart svg[role=img]");
    expect(svg?.["aria-labelledby"]).toBe("chart-title chart-desc");
    expect(await textOf(html, "svg title")).toContain("Sign-ins, consents and new token grants per day");
    // Today's row counts what this file recorded today: the 55 sign-ins of beforeAll at least.
    const rows = await elements(html, "table.numbers tbody tr");
    expect(rows).toHaveLength(30);
    const signins = await teamEvents("signin");
    expect(await textOf(html, "table.numbers tbody tr:nth-child(30) td:nth-child(2)")).toBe(String(signins));
    expect(await textOf(html, "svg desc")).toContain(`Sign-ins: ${signins} in all`);
    expect(await elements(html, "script")).toHaveLength(0);
  });

  it("answers a malformed `before` with a 400 page, never a 500", async () => {
    await page(await admin.get("/settings/audit?before=abc"), 400);
  });

  it("shows consent revocations by kind", async () => {
    const client = await namedClient("Audited App", false);
    await allowThroughConsentPage(member, client);
    await member.post(CONNECTED, { client_id: client.id });
    const html = await page(await admin.get("/settings/audit?kind=consent.revoked"), 200);
    const text = await textOf(html, "ol.events");
    expect(text).toContain("Access revoked by the person");
    expect(text).toContain("Audited App");
    expect(await elements(html, "ol.events > li")).toHaveLength(await teamEvents("consent.revoked"));
  });
});

describe("sign out everywhere (the account page)", () => {
  it("ends every browser session of the person, is audited, and leaves app tokens alone", async () => {
    const here = await signedIn(DEMO.observer);
    const elsewhere = await signedIn(DEMO.observer);
    const client = await createTestClient({ teamId: DEMO.team });
    const { code, verifier } = await obtainCode(client, DEMO.observer);
    const tokens = (await (await exchangeCode(client, code, verifier)).json()) as { access_token: string };

    const home = await page(await here.get("/"), 200);
    expect(await elements(home, 'form[action="/signout/everywhere"] input')).toContainEqual({
      type: "hidden",
      name: "csrf",
      value: here.csrf,
    });
    expect(await textOf(home, 'form[action="/signout/everywhere"] button')).toBe("Sign out everywhere");
    expect((await elsewhere.get(CONNECTED)).status).toBe(200);

    const res = await here.post("/signout/everywhere", {});
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/signin");
    // The other browser's session no longer opens settings pages: off to sign in.
    for (const person of [elsewhere, here]) {
      const out = await person.get(CONNECTED);
      expect(out.status).toBe(303);
      expect(out.headers.get("location")).toContain("/signin");
    }
    const sessions = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?")
      .bind(DEMO.observer)
      .first<{ n: number }>();
    expect(sessions?.n).toBe(0);
    const event = await env.DB.prepare(
      "SELECT detail FROM audit_events WHERE kind = 'signout' AND actor_user_id = ? ORDER BY id DESC LIMIT 1",
    )
      .bind(DEMO.observer)
      .first<{ detail: string }>();
    expect(JSON.parse(event!.detail)).toEqual({ everywhere: true });
    // Tokens issued to apps are not touched (connected apps revokes those).
    expect((await userinfo(tokens.access_token)).status).toBe(200);
  });

  it("refuses the form without the CSRF token and ends nothing", async () => {
    const person = await signedIn(DEMO.observer);
    await page(await person.post("/signout/everywhere", {}, { csrf: null }), 403);
    expect((await person.get(CONNECTED)).status).toBe(200);
  });
});
