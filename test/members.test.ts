/**
 * Team members (README "Administration"): a team admin changes roles, removes people and invites by
 * email — on the /settings/members pages and through /api/admin — under one policy
 * (src/oauth/member-policy.ts). A change reaches existing tokens before the call returns: the
 * effective scope of a token is granted ∩ the holder's role ceiling at the time it is asked (RFC 7662
 * §2.2 `scope`), a removed person's tokens are refused (RFC 6750 §3.1 invalid_token, RFC 6749 §5.2
 * invalid_grant). The CLI runs against `wrangler dev` in test/e2e/members.e2e.test.ts.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { call } from "./helpers";
import {
  adminApi,
  createTestClient,
  DEMO,
  exchangeCode,
  obtainCode,
  type TestClient,
  tokenRequest,
} from "./oauth-helpers";
import { elements, type Person, page, signedIn, textOf, userinfo } from "./settings-browser";
import { hiddenField, TestBrowser } from "./signin-browser";

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

const SCOPE = "openid profile email ir.incidents:read ir.incidents:write";

/** A person in the Demo team with their own seeded-like row (tests change and remove them). */
async function newDemoPerson(role = "member", onCallRole = "responder"): Promise<{ id: string; email: string }> {
  const id = `usr_t_${crypto.randomUUID().slice(0, 8)}`;
  const email = `${id}@example.com`;
  await env.DB.batch([
    env.DB.prepare("INSERT INTO users (id, kind, email, name) VALUES (?, 'human', ?, ?)").bind(
      id,
      email,
      `Person ${id}`,
    ),
    env.DB.prepare("INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES (?, 'team_demo', ?, ?)").bind(
      id,
      role,
      onCallRole,
    ),
  ]);
  return { id, email };
}

async function grant(userId: string): Promise<{ client: TestClient; tokens: Tokens }> {
  const client = await createTestClient({ method: "client_secret_basic" });
  const { code, verifier } = await obtainCode(client, userId, { scope: SCOPE });
  const res = await exchangeCode(client, code, verifier);
  expect(res.status).toBe(200);
  return { client, tokens: (await res.json()) as Tokens };
}

async function introspect(client: TestClient, token: string): Promise<Record<string, unknown>> {
  const res = await call("/oauth/introspect", {
    method: "POST",
    headers: {
      Authorization: `Basic ${btoa(`${client.id}:${client.secret}`)}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as Record<string, unknown>;
}

const refresh = (client: TestClient, token: string) =>
  tokenRequest(client, { grant_type: "refresh_token", refresh_token: token });

/** The admin API as a signed-in person's browser calls it (session cookie + X-CSRF-Token). */
function sessionApi(person: Person, method: string, path: string, body?: unknown, csrf: string | null = person.csrf) {
  return call(`/api/admin${path}`, {
    method,
    headers: {
      Cookie: person.cookie,
      ...(csrf === null ? {} : { "X-CSRF-Token": csrf }),
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const membership = (userId: string, teamId: string = DEMO.team) =>
  env.DB.prepare("SELECT role, on_call_role FROM memberships WHERE user_id = ? AND team_id = ?")
    .bind(userId, teamId)
    .first<{ role: string; on_call_role: string }>();

const auditDetails = async (kind: string) =>
  (
    await env.DB.prepare("SELECT actor_user_id, detail FROM audit_events WHERE kind = ? ORDER BY id").bind(kind).all()
  ).results.map((r) => ({ actor: r.actor_user_id, ...JSON.parse(String(r.detail)) }));

/** Dev sign-in in a fresh browser (the sign-in page sets the CSRF cookie). */
async function devSignIn(email: string): Promise<Response> {
  const browser = new TestBrowser();
  const csrf = hiddenField(await (await browser.fetch("/signin")).text(), "csrf");
  return browser.post("/signin/dev", { csrf, email, return_to: "/" });
}

let admin: Person;
let member: Person;
let observer: Person;
let otherAdmin: Person;
/** The only admin of team_solo (Demo gains admins in these tests). */
let soloAdmin: Person;

beforeAll(async () => {
  await env.DB.batch([
    env.DB.prepare("INSERT INTO teams (id, name) VALUES ('team_other', 'Other')"),
    env.DB.prepare(
      "INSERT INTO users (id, kind, email, name) VALUES ('usr_other_admin', 'human', 'boss@other.test', 'Boss')",
    ),
    env.DB.prepare(
      "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES ('usr_other_admin', 'team_other', 'admin', 'admin')",
    ),
  ]);
  admin = await signedIn(DEMO.admin);
  member = await signedIn(DEMO.member);
  observer = await signedIn(DEMO.observer);
  otherAdmin = await signedIn("usr_other_admin");
  await env.DB.batch([
    env.DB.prepare("INSERT INTO teams (id, name) VALUES ('team_solo', 'Solo')"),
    env.DB.prepare("INSERT INTO users (id, kind, email) VALUES ('usr_solo', 'human', 'solo@solo.test')"),
    env.DB.prepare(
      "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES ('usr_solo', 'team_solo', 'admin', 'admin')",
    ),
  ]);
  soloAdmin = await signedIn("usr_solo");
});

describe("the admin API: GET/PATCH/DELETE /api/admin/members, POST/DELETE /api/admin/invitations", () => {
  it("lists the team's people with both roles, last sign-in and connected apps", async () => {
    const res = await adminApi("GET", `/members?team_id=${DEMO.team}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { team_id: string; members: Record<string, unknown>[] };
    expect(body.team_id).toBe(DEMO.team);
    expect(body.members.find((m) => m.user_id === DEMO.observer)).toMatchObject({
      email: "observer@example.com",
      role: "observer",
      on_call_role: "observer",
      last_sign_in_at: null,
      connected_apps: 0,
    });
    // A team admin's own session sees the same, without naming the team.
    const own = await sessionApi(admin, "GET", "/members");
    expect(((await own.json()) as { members: unknown[] }).members).toHaveLength(body.members.length);
  });

  it("promotes: userinfo reports the new roles of an existing token at once", async () => {
    const person = await newDemoPerson("observer", "observer");
    const { tokens } = await grant(person.id);
    const res = await sessionApi(admin, "PATCH", `/members/${person.id}`, { role: "admin", on_call_role: "admin" });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(await res.json()).toMatchObject({ user_id: person.id, role: "admin", on_call_role: "admin" });
    expect(await (await userinfo(tokens.access_token)).json()).toMatchObject({ role: "admin", on_call_role: "admin" });
    expect(await membership(person.id)).toEqual({ role: "admin", on_call_role: "admin" });
    // The app they connected (automatic consent, live tokens) counts as connected.
    const listed = (await (await adminApi("GET", `/members?team_id=${DEMO.team}`)).json()) as {
      members: { user_id: string; connected_apps: number }[];
    };
    expect(listed.members.find((m) => m.user_id === person.id)?.connected_apps).toBe(1);
  });

  it("demotes: introspection of an existing token loses the write scopes at once; the refresh too", async () => {
    const person = await newDemoPerson("member");
    const { client, tokens } = await grant(person.id);
    expect((await introspect(client, tokens.access_token)).scope).toBe(SCOPE);
    const res = await adminApi("PATCH", `/members/${person.id}?team_id=${DEMO.team}`, { role: "observer" });
    expect(res.status).toBe(200);
    expect((await introspect(client, tokens.access_token)).scope).toBe("openid profile email ir.incidents:read");
    const next = (await (await refresh(client, tokens.refresh_token)).json()) as Tokens;
    expect(next.scope).toBe("openid profile email ir.incidents:read");
    expect((await auditDetails("member.role_changed")).at(-1)).toMatchObject({
      actor: null,
      via: "admin_api_token",
      user_id: person.id,
      from: { role: "member", on_call_role: "responder" },
      to: { role: "observer", on_call_role: "responder" },
    });
  });

  it("removes: existing access and refresh tokens are refused at once, sessions end", async () => {
    const person = await newDemoPerson("member");
    const browser = await signedIn(person.id);
    const { client, tokens } = await grant(person.id);
    const res = await sessionApi(admin, "DELETE", `/members/${person.id}`);
    expect(res.status).toBe(204);
    expect(await membership(person.id)).toBeNull();
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect(await introspect(client, tokens.access_token)).toEqual({ active: false });
    expect(await introspect(client, tokens.refresh_token)).toEqual({ active: false });
    const refused = await refresh(client, tokens.refresh_token);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe("invalid_grant");
    expect((await browser.get("/settings/connected-apps")).status).toBe(303); // signed out: off to sign-in
    expect((await auditDetails("member.removed")).at(-1)).toMatchObject({
      actor: DEMO.admin,
      user_id: person.id,
      from: { role: "member" },
    });
    // Readable in the audit log as a sentence: who, whom, from.
    const log = await page(await admin.get("/settings/audit?kind=member.removed"), 200);
    expect(await textOf(log, "ol.events")).toContain(
      `admin@example.com removed ${person.email} from the team (was member (on-call responder)).`,
    );
  });

  it("the last admin can be neither demoted nor removed (409), by anyone", async () => {
    const demote = await sessionApi(soloAdmin, "PATCH", "/members/usr_solo", { role: "member" });
    expect(demote.status).toBe(409);
    expect(((await demote.json()) as { error_description: string }).error_description).toContain("at least one admin");
    expect((await sessionApi(soloAdmin, "DELETE", "/members/usr_solo")).status).toBe(409);
    expect((await adminApi("DELETE", "/members/usr_solo?team_id=team_solo")).status).toBe(409);
    expect(await membership("usr_solo", "team_solo")).toEqual({ role: "admin", on_call_role: "admin" });
    // Changing only the on-call role of the last admin is fine.
    expect((await sessionApi(soloAdmin, "PATCH", "/members/usr_solo", { on_call_role: "responder" })).status).toBe(200);
    expect((await sessionApi(soloAdmin, "PATCH", "/members/usr_solo", { on_call_role: "admin" })).status).toBe(200);
  });

  it("two admins demoting each other at once leave the team with one admin", async () => {
    await env.DB.prepare("INSERT INTO teams (id, name) VALUES ('team_pair', 'Pair')").run();
    const ids = ["usr_pair_a", "usr_pair_b"];
    for (const id of ids) {
      await env.DB.batch([
        env.DB.prepare("INSERT INTO users (id, kind, email) VALUES (?, 'human', ?)").bind(id, `${id}@pair.test`),
        env.DB.prepare(
          "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES (?, 'team_pair', 'admin', 'admin')",
        ).bind(id),
      ]);
    }
    const [a, b] = await Promise.all(
      ids.map((id) => adminApi("PATCH", `/members/${id}?team_id=team_pair`, { role: "member" })),
    );
    expect([a?.status, b?.status].sort()).toEqual([200, 409]);
    const admins = await env.DB.prepare(
      "SELECT count(*) AS n FROM memberships WHERE team_id = 'team_pair' AND role = 'admin'",
    ).first();
    expect(admins?.n).toBe(1);
  });

  it("refuses members and observers (403) and changes without the CSRF header (403)", async () => {
    for (const person of [member, observer]) {
      expect((await sessionApi(person, "GET", "/members")).status).toBe(403);
      expect((await sessionApi(person, "PATCH", `/members/${DEMO.observer}`, { role: "admin" })).status).toBe(403);
      expect(
        (
          await sessionApi(person, "POST", "/invitations", {
            email: "x@example.com",
            role: "admin",
            on_call_role: "admin",
          })
        ).status,
      ).toBe(403);
    }
    expect((await sessionApi(admin, "PATCH", `/members/${DEMO.observer}`, { role: "admin" }, null)).status).toBe(403);
    expect((await sessionApi(admin, "DELETE", `/members/${DEMO.observer}`, undefined, "wrong")).status).toBe(403);
    expect(await membership(DEMO.observer)).toEqual({ role: "observer", on_call_role: "observer" });
  });

  it("another team's admin is told the person does not exist (404), never what they are", async () => {
    expect((await sessionApi(otherAdmin, "GET", `/members?team_id=${DEMO.team}`)).status).toBe(404);
    expect((await sessionApi(otherAdmin, "PATCH", `/members/${DEMO.observer}`, { role: "admin" })).status).toBe(404);
    expect(
      (await sessionApi(otherAdmin, "PATCH", `/members/${DEMO.observer}?team_id=${DEMO.team}`, { role: "admin" }))
        .status,
    ).toBe(404);
    expect((await sessionApi(otherAdmin, "DELETE", `/members/${DEMO.observer}`)).status).toBe(404);
    const invited = await adminApi("POST", "/invitations", {
      team_id: DEMO.team,
      email: "x@example.com",
      role: "member",
      on_call_role: "none",
    });
    const { id } = (await invited.json()) as { id: string };
    expect((await sessionApi(otherAdmin, "DELETE", `/invitations/${id}`)).status).toBe(404);
    expect(await membership(DEMO.observer)).toEqual({ role: "observer", on_call_role: "observer" });
  });

  it("refuses unknown roles and fields", async () => {
    for (const body of [{ role: "owner" }, { on_call_role: "chief" }, { role: "member", extra: 1 }]) {
      const res = await adminApi("PATCH", `/members/${DEMO.observer}?team_id=${DEMO.team}`, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
    }
  });

  it("invites an email; at their next dev sign-in they join that team with those roles", async () => {
    const res = await sessionApi(otherAdmin, "POST", "/invitations", {
      email: "Newcomer@Example.com",
      role: "observer",
      on_call_role: "responder",
    });
    expect(res.status).toBe(201);
    const invitation = (await res.json()) as Record<string, string>;
    expect(invitation).toMatchObject({ team_id: "team_other", email: "newcomer@example.com", role: "observer" });
    expect(Date.parse(invitation.expires_at!) - Date.parse(invitation.created_at!)).toBe(7 * 24 * 3600_000);

    expect((await devSignIn("newcomer@example.com")).status).toBe(303);
    const user = await env.DB.prepare("SELECT id FROM users WHERE email = 'newcomer@example.com'").first<{
      id: string;
    }>();
    // The invitation placed them: in the inviting team only (not Demo, the dev sign-in default).
    const teams = await env.DB.prepare("SELECT team_id, role, on_call_role FROM memberships WHERE user_id = ?")
      .bind(user!.id)
      .all();
    expect(teams.results).toEqual([{ team_id: "team_other", role: "observer", on_call_role: "responder" }]);
    const left = await env.DB.prepare(
      "SELECT count(*) AS n FROM invitations WHERE email = 'newcomer@example.com'",
    ).first();
    expect(left?.n).toBe(0);
    expect((await auditDetails("member.joined")).at(-1)).toMatchObject({ user_id: user!.id, to: { role: "observer" } });
    // Their tokens carry the invited roles.
    const client = await createTestClient({ method: "client_secret_basic", teamId: "team_other" });
    const { code, verifier } = await obtainCode(client, user!.id, { scope: SCOPE });
    const tokens = (await (await exchangeCode(client, code, verifier)).json()) as Tokens;
    expect(tokens.scope).toBe("openid profile email ir.incidents:read");
  });

  it("an existing person invited to another team joins it at their next sign-in", async () => {
    await adminApi("POST", "/invitations", {
      team_id: "team_other",
      email: "member@example.com",
      role: "member",
      on_call_role: "none",
    });
    expect((await devSignIn("member@example.com")).status).toBe(303);
    expect(await membership(DEMO.member, "team_other")).toEqual({ role: "member", on_call_role: "none" });
    expect(await membership(DEMO.member)).toEqual({ role: "member", on_call_role: "responder" });
  });

  it("a withdrawn or expired invitation is not used; inviting someone already in the team is refused", async () => {
    const res = await adminApi("POST", "/invitations", {
      team_id: "team_other",
      email: "gone@example.com",
      role: "admin",
      on_call_role: "admin",
    });
    const { id } = (await res.json()) as { id: string };
    expect((await adminApi("DELETE", `/invitations/${id}`)).status).toBe(204);
    expect((await adminApi("DELETE", `/invitations/${id}`)).status).toBe(404);
    await adminApi("POST", "/invitations", {
      team_id: "team_other",
      email: "late@example.com",
      role: "admin",
      on_call_role: "admin",
    });
    await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE email = 'late@example.com'")
      .bind(Date.now() - 1)
      .run();
    for (const email of ["gone@example.com", "late@example.com"]) {
      expect((await devSignIn(email)).status).toBe(303);
      const teams = await env.DB.prepare(
        "SELECT m.team_id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = ?",
      )
        .bind(email)
        .all();
      expect(teams.results).toEqual([{ team_id: DEMO.team }]); // the dev sign-in default, not the invitation
    }
    const again = await adminApi("POST", "/invitations", {
      team_id: DEMO.team,
      email: "observer@example.com",
      role: "admin",
      on_call_role: "admin",
    });
    expect(again.status).toBe(409);
  });
});

describe("the /settings/members pages", () => {
  const MEMBERS = "/settings/members";

  it("shows the team's people with a role select each, the invite form and the menu entry", async () => {
    const html = await page(await admin.get(MEMBERS), 200);
    expect(await textOf(html, "h1")).toBe("Members of Demo");
    const roleSelects = await elements(html, 'ul.members select[name="role"]');
    expect(roleSelects.length).toBeGreaterThanOrEqual(3);
    const observerRow = await elements(html, `select#role-${DEMO.observer} option[selected]`);
    expect(observerRow.map((o) => o.value)).toEqual(["observer"]);
    expect(
      await elements(html, 'form[action="/settings/members/invitations?team=team_demo"] input[name="email"]'),
    ).toHaveLength(1);
    expect(await elements(html, 'nav a[href="/settings/members"]')).toHaveLength(1);
  });

  it("members and observers get the 403 page", async () => {
    for (const person of [member, observer]) {
      await page(await person.get(MEMBERS), 403);
      await page(await person.post(MEMBERS, { user_id: DEMO.observer, role: "admin", on_call_role: "admin" }), 403);
    }
    expect(await membership(DEMO.observer)).toEqual({ role: "observer", on_call_role: "observer" });
  });

  it("demotes with the form: an existing token loses its write scopes at once; promotes back", async () => {
    const person = await newDemoPerson("member");
    const { client, tokens } = await grant(person.id);
    const res = await admin.post(`${MEMBERS}?team=team_demo`, {
      user_id: person.id,
      role: "observer",
      on_call_role: "responder",
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`${MEMBERS}?team=team_demo&done=roles`);
    expect((await introspect(client, tokens.access_token)).scope).toBe("openid profile email ir.incidents:read");
    const promoted = await admin.post(MEMBERS, { user_id: person.id, role: "admin", on_call_role: "admin" });
    expect(promoted.status).toBe(303);
    expect((await introspect(client, tokens.access_token)).scope).toBe(SCOPE);
    expect(await (await userinfo(tokens.access_token)).json()).toMatchObject({ role: "admin" });
  });

  it("refuses a form without the right CSRF token (403), changing nothing", async () => {
    const person = await newDemoPerson("member");
    await page(
      await admin.post(MEMBERS, { user_id: person.id, role: "none", on_call_role: "none" }, { csrf: null }),
      403,
    );
    await page(
      await admin.post(MEMBERS, { user_id: person.id, role: "none", on_call_role: "none" }, { csrf: "x".repeat(43) }),
      403,
    );
    await page(await admin.post(`${MEMBERS}/${person.id}/remove`, {}, { csrf: null }), 403);
    await page(
      await admin.post(
        `${MEMBERS}/invitations`,
        { email: "z@example.com", role: "admin", on_call_role: "admin" },
        { origin: "https://evil.example" },
      ),
      403,
    );
    expect(await membership(person.id)).toEqual({ role: "member", on_call_role: "responder" });
  });

  it("removes after a confirmation page: existing tokens are refused at once", async () => {
    const person = await newDemoPerson("member");
    const { client, tokens } = await grant(person.id);
    const confirm = await page(await admin.get(`${MEMBERS}/${person.id}/remove`), 200);
    expect(await textOf(confirm, "h1")).toBe(`Remove ${person.email} from Demo?`);
    const [form] = await elements(confirm, "main form");
    expect(form?.action).toBe(`${MEMBERS}/${person.id}/remove?team=team_demo`);
    const res = await admin.post(form!.action!, {});
    expect(res.status).toBe(303);
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect((await refresh(client, tokens.refresh_token)).status).toBe(400);
    const html = await page(await admin.get(res.headers.get("location")!), 200);
    expect(await textOf(html, "[role=status]")).toContain("removed");
    expect(html).not.toContain(person.email);
  });

  it("refuses to demote or remove the last admin, saying why", async () => {
    const demote = await page(
      await soloAdmin.post(MEMBERS, { user_id: "usr_solo", role: "member", on_call_role: "admin" }),
      409,
    );
    expect(await textOf(demote, "main")).toContain("at least one admin");
    await page(await soloAdmin.post(`${MEMBERS}/usr_solo/remove`, {}), 409);
    expect(await membership("usr_solo", "team_solo")).toEqual({ role: "admin", on_call_role: "admin" });
  });

  it("another team's admin gets 404 for Demo's people", async () => {
    await page(await otherAdmin.get(`${MEMBERS}?team=team_demo`), 404);
    await page(await otherAdmin.get(`${MEMBERS}/${DEMO.observer}/remove`), 404);
    await page(await otherAdmin.post(`${MEMBERS}/${DEMO.observer}/remove`, {}), 404);
    await page(await otherAdmin.post(MEMBERS, { user_id: DEMO.observer, role: "admin", on_call_role: "admin" }), 404);
    expect(await membership(DEMO.observer)).toEqual({ role: "observer", on_call_role: "observer" });
  });

  it("invites with the form, lists and withdraws the invitation; an invitation is used at sign-in", async () => {
    const res = await admin.post(`${MEMBERS}/invitations`, {
      email: "pagejoin@example.com",
      role: "observer",
      on_call_role: "none",
    });
    expect(res.status).toBe(303);
    const html = await page(await admin.get(res.headers.get("location")!), 200);
    expect(await textOf(html, "ul.invitations")).toContain("pagejoin@example.com");
    const invitation = await env.DB.prepare("SELECT id FROM invitations WHERE email = 'pagejoin@example.com'").first<{
      id: string;
    }>();
    const [withdraw] = await elements(html, `ul.invitations form[action*="/${invitation!.id}/withdraw"]`);
    expect((await admin.post(withdraw!.action!, {})).status).toBe(303);
    const after = await textOf(await page(await admin.get(MEMBERS), 200), "main");
    expect(after.slice(after.indexOf("Invite someone"))).not.toContain("pagejoin@example.com");

    await admin.post(`${MEMBERS}/invitations`, {
      email: "pagejoin@example.com",
      role: "observer",
      on_call_role: "none",
    });
    expect((await devSignIn("pagejoin@example.com")).status).toBe(303);
    const joined = await env.DB.prepare(
      "SELECT m.role, m.on_call_role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'pagejoin@example.com'",
    ).first();
    // Already in Demo through the invitation (not the default member/responder of dev sign-in).
    expect(joined).toEqual({ role: "observer", on_call_role: "none" });
    const listed = await page(await admin.get(MEMBERS), 200);
    expect(await textOf(listed, "ul.members")).toContain("pagejoin@example.com");
  });
});
