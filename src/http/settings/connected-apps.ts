/**
 * The apps a signed-in person has allowed, and taking that back (use cases in oauth/connected-apps.ts):
 *   GET  /settings/connected-apps
 *   POST /settings/connected-apps   (client_id)  revoke: consent deleted, every token of theirs revoked
 */
import { listConnectedApps, revokeConnectedApp } from "../../oauth/connected-apps";
import { renderErrorPage, renderPage } from "../../pages/render";
import { ConnectedAppsPage } from "../../pages/settings/connected-apps";
import { clientIp } from "../context";
import { csrfToken } from "../session";
import { isAdminOf, type SettingsContext } from "./access";

const NOTICES: Record<string, string> = {
  revoked: "Access was revoked. The app can no longer use your account.",
};

export async function showConnectedApps(c: SettingsContext): Promise<Response> {
  return renderPage(
    c,
    ConnectedAppsPage({
      apps: await listConnectedApps(c.env, c.get("session").user.id),
      isAdmin: isAdminOf(c.get("memberships")),
      notice: NOTICES[c.req.query("done") ?? ""],
      csrf: csrfToken(c),
    }),
  );
}

export async function revokeFromForm(c: SettingsContext): Promise<Response> {
  const revoked = await revokeConnectedApp(
    c.env,
    { userId: c.get("session").user.id, teamId: c.get("memberships")[0]?.teamId ?? null, ip: clientIp(c) },
    c.get("form").get("client_id") ?? "",
  );
  // Unknown and not-yours are one answer: the page tells nobody which client ids exist.
  if (revoked.outcome === "not_connected") {
    return renderErrorPage(c, {
      title: "App not found",
      message: "You have not connected that app, so it cannot use your account.",
      status: 404,
    });
  }
  return c.redirect("/settings/connected-apps?done=revoked", 303);
}
