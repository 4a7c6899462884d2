/**
 * The apps a signed-in person has allowed, and taking that back:
 *   GET  /settings/connected-apps
 *   POST /settings/connected-apps   (client_id)  revoke: consent deleted, every token of theirs revoked
 * An app is listed when the person consented to it, or when it holds live tokens of theirs without a
 * consent (apps the team's admins marked for automatic consent): either way it can act for them.
 */
import { userGrants } from "../../durable/stub";
import { MAX_CLIENT_ID_LENGTH } from "../../limits";
import { revokeUserClientTokens } from "../../oauth/grants/revocation";
import { renderErrorPage, renderPage } from "../../pages/render";
import { type ConnectedApp, ConnectedAppsPage } from "../../pages/settings/connected-apps";
import { recordAudit } from "../../store/audit";
import { getClient } from "../../store/clients";
import { deleteConsent, listConsentsOfUser } from "../../store/consents";
import { dbOf } from "../../store/db";
import { familyUsageOfUser, liveFamilyScopesOfUser } from "../../store/token-families";
import { csrfToken } from "../session";
import { isAdminOf, type SettingsContext } from "./access";

const NOTICES: Record<string, string> = {
  revoked: "Access was revoked. The app can no longer use your account.",
};

async function connectedApps(c: SettingsContext): Promise<ConnectedApp[]> {
  const db = dbOf(c.env.DB);
  const userId = c.get("session").user.id;
  const [consents, indexed, live, lastUse] = await Promise.all([
    listConsentsOfUser(db, userId),
    familyUsageOfUser(db, userId),
    liveFamilyScopesOfUser(db, userId),
    // Token use is recorded by the user's UserGrants object (no D1 write on the token path).
    userGrants(c.env, userId).lastUseByClient(),
  ]);
  const usage = indexed.map((u) => ({ ...u, lastUsedAt: Math.max(u.lastUsedAt, lastUse[u.clientId] ?? 0) }));
  const usageOf = new Map(usage.map((u) => [u.clientId, u]));
  const apps: ConnectedApp[] = consents.map((consent) => ({
    clientId: consent.clientId,
    name: consent.clientName,
    origin: consent.origin,
    scopes: consent.scopes,
    allowedAt: consent.createdAt,
    lastUsedAt: usageOf.get(consent.clientId)?.lastUsedAt ?? null,
    automatic: false,
  }));
  const consented = new Set(apps.map((a) => a.clientId));
  for (const u of usage) {
    if (consented.has(u.clientId) || !u.liveFamilies) continue;
    const scopes = new Set(live.filter((f) => f.clientId === u.clientId).flatMap((f) => f.scopes));
    apps.push({
      clientId: u.clientId,
      name: u.clientName,
      origin: u.origin,
      scopes: [...scopes],
      allowedAt: u.firstAt,
      lastUsedAt: u.lastUsedAt,
      automatic: true,
    });
  }
  return apps;
}

export async function showConnectedApps(c: SettingsContext): Promise<Response> {
  return renderPage(
    c,
    ConnectedAppsPage({
      apps: await connectedApps(c),
      isAdmin: isAdminOf(c.get("memberships")),
      notice: NOTICES[c.req.query("done") ?? ""],
      csrf: csrfToken(c),
    }),
  );
}

export async function revokeConnectedApp(c: SettingsContext): Promise<Response> {
  const clientId = c.get("form").get("client_id") ?? "";
  const db = dbOf(c.env.DB);
  const client = clientId && clientId.length <= MAX_CLIENT_ID_LENGTH ? await getClient(db, clientId) : undefined;
  if (!client) {
    return renderErrorPage(c, {
      title: "App not found",
      message: "That app does not exist any more, so it cannot use your account.",
      status: 404,
    });
  }
  const user = c.get("session").user;
  // The consent first, so the app cannot skip the consent screen while its tokens are being revoked.
  await deleteConsent(db, user.id, client.id);
  await revokeUserClientTokens(c.env, user.id, client.id);
  await recordAudit(db, {
    kind: "consent.revoked",
    teamId: client.teamId ?? c.get("memberships")[0]?.teamId ?? null,
    actorUserId: user.id,
    clientId: client.id,
    ip: c.req.header("CF-Connecting-IP") ?? null,
    detail: { name: client.name },
  });
  return c.redirect("/settings/connected-apps?done=revoked", 303);
}
