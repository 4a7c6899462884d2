/**
 * The settings pages, mounted at /settings. Every route: page security headers, a signed-in person;
 * every POST: a bounded form with a valid CSRF token; app, members and audit routes: a team admin.
 */
import { Hono } from "hono";
import { renderErrorPage } from "../../pages/render";
import { pageHeaders } from "../page-headers";
import { checkedForm, type SettingsEnv, signedIn, teamAdmin } from "./access";
import { showAudit } from "./audit";
import { revokeFromForm, showConnectedApps } from "./connected-apps";
import {
  changeRolesFromForm,
  confirmRemoval,
  inviteFromForm,
  removeFromForm,
  showMembers,
  withdrawFromForm,
} from "./members";
import { confirmAction, deleteFromForm, resetSecret, revokeTokens, showApp, updateFromForm } from "./oauth-application";
import { createFromForm, showAppList, showNewApp } from "./oauth-applications";

export const settingsRoutes = new Hono<SettingsEnv>();

settingsRoutes.use("*", pageHeaders, signedIn);
settingsRoutes.post("*", checkedForm);

settingsRoutes.get("/connected-apps", showConnectedApps);
settingsRoutes.post("/connected-apps", revokeFromForm);

const apps = "/oauth-applications";
settingsRoutes.use(`${apps}/*`, teamAdmin);
settingsRoutes.use(apps, teamAdmin);
settingsRoutes.get(apps, showAppList);
settingsRoutes.post(apps, createFromForm);
settingsRoutes.get(`${apps}/new`, showNewApp);
settingsRoutes.get(`${apps}/:id`, showApp);
settingsRoutes.post(`${apps}/:id`, updateFromForm);
settingsRoutes.get(`${apps}/:id/reset-secret`, confirmAction("reset-secret"));
settingsRoutes.post(`${apps}/:id/reset-secret`, resetSecret);
settingsRoutes.get(`${apps}/:id/revoke-tokens`, confirmAction("revoke-tokens"));
settingsRoutes.post(`${apps}/:id/revoke-tokens`, revokeTokens);
settingsRoutes.get(`${apps}/:id/delete`, confirmAction("delete"));
settingsRoutes.post(`${apps}/:id/delete`, deleteFromForm);

const members = "/members";
settingsRoutes.use(`${members}/*`, teamAdmin);
settingsRoutes.use(members, teamAdmin);
settingsRoutes.get(members, showMembers);
settingsRoutes.post(members, changeRolesFromForm);
settingsRoutes.post(`${members}/invitations`, inviteFromForm);
settingsRoutes.post(`${members}/invitations/:id/withdraw`, withdrawFromForm);
settingsRoutes.get(`${members}/:userId/remove`, confirmRemoval);
settingsRoutes.post(`${members}/:userId/remove`, removeFromForm);

settingsRoutes.use("/audit", teamAdmin);
settingsRoutes.get("/audit", showAudit);

settingsRoutes.all("*", (c) =>
  renderErrorPage(c, { title: "Page not found", message: "There is no page at this address.", status: 404 }),
);
