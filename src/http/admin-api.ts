/**
 * The JSON admin API under /api/admin: apps (create, list, read, edit, reset secret, revoke tokens,
 * delete), the team's people and invitations, and the team's audit log. Callers are the operator (`Authorization: Bearer
 * <ADMIN_API_TOKEN>`, naming team_id) or a team admin's browser session (with `X-CSRF-Token` equal to
 * the CSRF cookie on every change). No CORS: only our own pages and the CLI call it.
 */
import { type Context, Hono } from "hono";
import {
  type AdminActor,
  actingTeam,
  appView,
  createApp,
  deleteApp,
  findApp,
  listApps,
  resetAppSecret,
  revokeAppTokens,
  teamAudit,
  updateApp,
} from "../oauth/admin-apps";
import { parseJsonObject } from "../oauth/client-metadata";
import { OAuthError } from "../oauth/errors";
import {
  changeMemberRoles,
  invitationView,
  inviteMember,
  listMembers,
  memberTeam,
  memberView,
  removeMember,
  withdrawInvitation,
} from "../oauth/team-members";
import { recordAudit } from "../store/audit";
import { dbOf } from "../store/db";
import { listMemberships } from "../store/users";
import { sha256, timingSafeEqual } from "../tokens/secrets";
import { KEY_ALGS, rotateSigningKey } from "../tokens/signing-keys";
import { type AppEnv, clientIp, readJsonBody } from "./context";
import { currentSession, isCsrfValid } from "./session";

export const adminApi = new Hono<AppEnv>();

adminApi.use("*", async (c, next) => {
  await next();
  c.header("Cache-Control", "no-store");
});

adminApi.post("/apps", async (c) => {
  const actor = await authenticateAdmin(c);
  const body = await readJson(c);
  const teamId = await actingTeam(c.env, actor, body.team_id);
  const { app, clientSecret } = await createApp(c.env, actor, teamId, body);
  // The secret is in this response and nowhere else, ever.
  return c.json(clientSecret ? { ...app, client_secret: clientSecret, client_secret_expires_at: 0 } : app, 201);
});

adminApi.get("/apps", async (c) => {
  const actor = await authenticateAdmin(c);
  const teamId = await actingTeam(c.env, actor, c.req.query("team_id"));
  return c.json({ team_id: teamId, apps: await listApps(c.env, teamId) });
});

adminApi.get("/apps/:id", async (c) => {
  const actor = await authenticateAdmin(c);
  return c.json(appView(await findApp(c.env, actor, c.req.param("id"))));
});

adminApi.patch("/apps/:id", async (c) => {
  const actor = await authenticateAdmin(c);
  return c.json(await updateApp(c.env, actor, c.req.param("id"), await readJson(c)));
});

adminApi.post("/apps/:id/reset-secret", async (c) => {
  const actor = await authenticateAdmin(c);
  return c.json(await resetAppSecret(c.env, actor, c.req.param("id")));
});

adminApi.post("/apps/:id/revoke-tokens", async (c) => {
  const actor = await authenticateAdmin(c);
  return c.json(await revokeAppTokens(c.env, actor, c.req.param("id")));
});

adminApi.delete("/apps/:id", async (c) => {
  const actor = await authenticateAdmin(c);
  await deleteApp(c.env, actor, c.req.param("id"));
  return c.body(null, 204);
});

// The team's people (issue: team members). Policy: src/oauth/member-policy.ts.
adminApi.get("/members", async (c) => {
  const actor = await authenticateAdmin(c);
  const teamId = await memberTeam(c.env, actor, c.req.query("team_id"));
  const { members, invitations } = await listMembers(c.env, actor, teamId);
  return c.json({ team_id: teamId, members: members.map(memberView), invitations: invitations.map(invitationView) });
});

adminApi.patch("/members/:userId", async (c) => {
  const actor = await authenticateAdmin(c);
  const body = await readJson(c);
  const teamId = await memberTeam(c.env, actor, c.req.query("team_id") ?? body.team_id);
  return c.json(memberView(await changeMemberRoles(c.env, actor, teamId, c.req.param("userId"), body)));
});

adminApi.delete("/members/:userId", async (c) => {
  const actor = await authenticateAdmin(c);
  const teamId = await memberTeam(c.env, actor, c.req.query("team_id"));
  await removeMember(c.env, actor, teamId, c.req.param("userId"));
  return c.body(null, 204);
});

adminApi.post("/invitations", async (c) => {
  const actor = await authenticateAdmin(c);
  const body = await readJson(c);
  const teamId = await memberTeam(c.env, actor, body.team_id);
  return c.json(invitationView(await inviteMember(c.env, actor, teamId, body)), 201);
});

adminApi.delete("/invitations/:id", async (c) => {
  const actor = await authenticateAdmin(c);
  await withdrawInvitation(c.env, actor, c.req.param("id"));
  return c.body(null, 204);
});

adminApi.get("/audit", async (c) => {
  const actor = await authenticateAdmin(c);
  const teamId = await actingTeam(c.env, actor, c.req.query("team_id"));
  const { before, limit, kind, client_id, actor_user_id } = c.req.query();
  const query = { before, limit, kind, client_id, actor_user_id };
  return c.json({ team_id: teamId, ...(await teamAudit(c.env, teamId, query)) });
});

/**
 * Signing-key rotation (operator token only: keys serve every team). The new key signs from now on;
 * the previous one stays in the JWKS until every token it signed has expired.
 */
adminApi.post("/keys/rotate", async (c) => {
  const actor = await authenticateAdmin(c);
  if (actor.teams !== "all")
    throw new OAuthError("access_denied", "only the operator token rotates keys", { status: 403 });
  const db = dbOf(c.env.DB);
  const rotated: Record<string, string> = {};
  for (const alg of KEY_ALGS) rotated[alg] = await rotateSigningKey(db, c.get("settings"), alg);
  await recordAudit(db, {
    kind: "keys.rotated",
    ip: clientIp(c),
    detail: { kids: rotated },
  });
  return c.json({ current: rotated });
});

/**
 * The operator token (constant-time: both sides hashed first, so lengths leak nothing), or the
 * session of someone who administers at least one team. Session changes need the CSRF header.
 */
async function authenticateAdmin(c: Context<AppEnv>): Promise<AdminActor> {
  const authorization = c.req.header("Authorization");
  if (authorization !== undefined) {
    const presented = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
    const expected = c.get("settings").adminApiToken;
    if (!presented || !expected || !timingSafeEqual(await sha256(presented), await sha256(expected))) {
      throw new OAuthError(
        "invalid_token",
        expected ? "the admin API token is not valid" : "the admin API token is disabled",
        {
          bearer: true,
        },
      );
    }
    return { userId: null, teams: "all" };
  }
  const session = await currentSession(c);
  if (!session) {
    throw new OAuthError("invalid_token", "sign in as a team admin or send the admin API token", { bearer: true });
  }
  if (c.req.method !== "GET" && !isCsrfValid(c, c.req.header("X-CSRF-Token"))) {
    throw new OAuthError("access_denied", "the X-CSRF-Token header is missing or wrong", { status: 403 });
  }
  const memberships = await listMemberships(dbOf(c.env.DB), session.user.id);
  const teams = memberships.filter((m) => m.role === "admin").map((m) => m.teamId);
  if (teams.length === 0) {
    throw new OAuthError("access_denied", "only team admins use the admin API", { status: 403 });
  }
  return { userId: session.user.id, teams };
}

async function readJson(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  return parseJsonObject(await readJsonBody(c, "invalid_request"), "invalid_request");
}
