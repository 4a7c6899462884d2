/**
 * The holder section of a user's UserGrants object (docs/architecture.md "The holder's state in the
 * holder's object"): a copy of D1 ordered by `users.membership_version`, so no stale role can
 * overwrite a newer one and no removal can be undone by a late writer; a user who never signed in
 * (the seed) is filled by their first authorization. Effective scope = granted ∩ the current role
 * ceiling (RFC 7662 §2.2 `scope`).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { userGrants } from "../src/durable/stub";
import type { HolderRecord, UserGrants } from "../src/durable/user-grants";
import { call } from "./helpers";
import { createTestClient, DEMO, exchangeCode, obtainCode, setRoles, tokenRequest } from "./oauth-helpers";

const stub = (userId: string) => userGrants(env, userId);

const holderRows = (userId: string) =>
  runInDurableObject(stub(userId), (_instance, state) =>
    state.storage.sql.exec("SELECT team_id, role, version, removed FROM holder_teams ORDER BY team_id").toArray(),
  );

const record = (version: number, role: string, teams = ["team_demo"]): HolderRecord => ({
  version,
  email: "p@example.com",
  name: "P",
  teams: teams.map((teamId) => ({ teamId, role, onCallRole: "responder" })),
});

describe("the holder section of UserGrants", () => {
  it("applies a record only if it is at least as new as what it holds", async () => {
    const grants = stub("usr_probe_order");
    expect(await grants.publishHolder(record(5, "observer"), Date.now())).toMatchObject({ applied: true });
    // A writer that read D1 before the version-5 change answers late: ignored.
    expect(await grants.publishHolder(record(4, "admin"), Date.now())).toMatchObject({ applied: false });
    expect(await holderRows("usr_probe_order")).toEqual([
      { team_id: "team_demo", role: "observer", version: 5, removed: 0 },
    ]);
  });

  it("a team missing from a newer record is tombstoned and its families revoked; an older fill cannot revive it", async () => {
    const client = await createTestClient();
    const userId = "usr_probe_remove";
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO users (id, kind, email, name) VALUES (?, 'human', 'probe@example.com', 'Probe')",
      ).bind(userId),
      env.DB.prepare(
        "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES (?, 'team_demo', 'member', 'responder')",
      ).bind(userId),
    ]);
    // Authorized at version 0 (the fill), then removed at version 1 before the code is redeemed.
    const { code, verifier } = await obtainCode(client, userId, {});
    const published = await stub(userId).publishHolder(
      { ...record(1, "member", []), email: "probe@example.com" },
      Date.now(),
    );
    expect(published.revokedFamilies).toHaveLength(1);
    // A slow /oauth/authorize that read the membership at version 0 now fills: refused by the tombstone.
    await runInDurableObject(stub(userId), async (instance: UserGrants) => {
      await instance.issueCode({
        familyId: "fam_late",
        clientId: client.id,
        teamId: "team_demo",
        scopes: ["openid"],
        resource: null,
        nonce: null,
        authTime: 0,
        redirectUri: client.redirectUri,
        redirectUriRequired: true,
        holder: { email: "probe@example.com", name: "Probe", role: "member", onCallRole: "responder" },
        holderVersion: 0,
        codeHash: "late",
        codeChallenge: "x",
        expiresAt: Date.now() + 60_000,
        now: Date.now(),
      });
    });
    expect(await holderRows(userId)).toEqual([{ team_id: "team_demo", role: "member", version: 1, removed: 1 }]);
    const res = await exchangeCode(client, code, verifier);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_grant");
  });

  it("a live family whose holder is no longer in its team: code, refresh and access check each refuse on the holder's row alone", async () => {
    // The holder is read in the same statement as the code, the refresh token and the access check.
    // A removal normally also revokes the families; here only the holder's row goes, so nothing but
    // that joined row can refuse (README: a removal takes effect at once everywhere).
    const client = await createTestClient({ method: "client_secret_basic" });
    const userId = "usr_probe_holderless";
    await env.DB.batch([
      env.DB.prepare("INSERT INTO users (id, kind, email, name) VALUES (?, 'human', 'gone@example.com', 'Gone')").bind(
        userId,
      ),
      env.DB.prepare(
        "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES (?, 'team_demo', 'member', 'responder')",
      ).bind(userId),
    ]);
    const first = await obtainCode(client, userId, { scope: "openid ir.incidents:read" });
    const tokens = (await (await exchangeCode(client, first.code, first.verifier)).json()) as {
      access_token: string;
      refresh_token: string;
    };
    const second = await obtainCode(client, userId, { scope: "openid ir.incidents:read" });
    const userinfo = () => call("/oauth/userinfo", { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    expect((await userinfo()).status).toBe(200);
    await runInDurableObject(stub(userId), (_instance, state) => {
      state.storage.sql.exec("UPDATE holder_teams SET removed = 1");
    });
    // RFC 6749 §5.2 invalid_grant for the code and the refresh token; RFC 6750 §3.1 invalid_token at UserInfo.
    const exchanged = await exchangeCode(client, second.code, second.verifier);
    expect(exchanged.status).toBe(400);
    expect(await exchanged.json()).toMatchObject({ error: "invalid_grant" });
    const refreshed = await tokenRequest(client, { grant_type: "refresh_token", refresh_token: tokens.refresh_token });
    expect(refreshed.status).toBe(400);
    expect(await refreshed.json()).toMatchObject({ error: "invalid_grant" });
    expect((await userinfo()).status).toBe(401);
  });

  it("a seeded person who never signed in is filled by their first authorization, then kept in step", async () => {
    expect(await holderRows(DEMO.observer)).toEqual([]);
    const client = await createTestClient({ scopes: ["openid", "ir.incidents:read", "ir.incidents:write"] });
    const { code, verifier } = await obtainCode(client, DEMO.observer, { scope: "openid ir.incidents:read" });
    expect(await holderRows(DEMO.observer)).toEqual([
      { team_id: "team_demo", role: "observer", version: 0, removed: 0 },
    ]);
    expect((await exchangeCode(client, code, verifier)).status).toBe(200);
    await setRoles(DEMO.observer, { role: "none" });
    const [row] = await holderRows(DEMO.observer);
    expect(row).toMatchObject({ role: "none", removed: 0 });
    expect(Number(row?.version)).toBeGreaterThan(0);
    await setRoles(DEMO.observer, { role: "observer" });
  });

  it("a role change of a person whose object is empty publishes their whole record", async () => {
    expect(await holderRows(DEMO.member)).toEqual([]);
    await setRoles(DEMO.member, { on_call_role: "observer" });
    expect(await holderRows(DEMO.member)).toEqual([{ team_id: "team_demo", role: "member", version: 1, removed: 0 }]);
    await setRoles(DEMO.member, { on_call_role: "responder" });
  });

  it("a writer that died between its D1 commit and its publish: the object's alarm copies D1 by itself", async () => {
    const client = await createTestClient({ method: "client_secret_basic" });
    const userId = "usr_probe_crash";
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO users (id, kind, email, name) VALUES (?, 'human', 'crash@example.com', 'Crash')",
      ).bind(userId),
      env.DB.prepare(
        "INSERT INTO memberships (user_id, team_id, role, on_call_role) VALUES (?, 'team_demo', 'member', 'responder')",
      ).bind(userId),
    ]);
    const { code, verifier } = await obtainCode(client, userId, { scope: "openid ir.incidents:read" });
    expect((await exchangeCode(client, code, verifier)).status).toBe(200);
    // The writer announces the change, commits it in D1 (role none, version bumped)… and dies.
    await stub(userId).expectHolderChange(userId);
    await env.DB.batch([
      env.DB.prepare("UPDATE memberships SET role = 'none' WHERE user_id = ?").bind(userId),
      env.DB.prepare("UPDATE users SET membership_version = membership_version + 1 WHERE id = ?").bind(userId),
    ]);
    expect(await holderRows(userId)).toEqual([{ team_id: "team_demo", role: "member", version: 0, removed: 0 }]);
    // Not due yet: the alarm leaves it for the writer (which may still publish).
    expect(await runDurableObjectAlarm(stub(userId))).toBe(true);
    expect((await holderRows(userId))[0]).toMatchObject({ role: "member" });
    // Due (30 s later): the alarm reads D1 and publishes it.
    await runInDurableObject(stub(userId), async (_instance, state) => {
      state.storage.sql.exec("UPDATE holder_pending SET due_at = 0");
      await state.storage.setAlarm(Date.now());
    });
    expect(await runDurableObjectAlarm(stub(userId))).toBe(true);
    expect(await holderRows(userId)).toEqual([{ team_id: "team_demo", role: "none", version: 1, removed: 0 }]);
  });

  it("a writer that publishes settles its announcement: the alarm has nothing to catch up on", async () => {
    await setRoles(DEMO.observer, { on_call_role: "none" });
    const pending = await runInDurableObject(stub(DEMO.observer), (_instance, state) =>
      state.storage.sql.exec("SELECT writers FROM holder_pending").toArray(),
    );
    expect(pending).toEqual([{ writers: 0 }]);
    await setRoles(DEMO.observer, { on_call_role: "observer" });
  });
});
