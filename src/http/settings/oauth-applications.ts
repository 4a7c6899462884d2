/**
 * The team's OAuth applications, for team admins:
 *   GET  /settings/oauth-applications[?team=…]            the list
 *   GET  /settings/oauth-applications/new?team=…&type=…   choose a kind, then the form for it
 *   POST /settings/oauth-applications                     create → the credentials, shown once
 */
import { createApp } from "../../oauth/admin-apps";
import { renderPage } from "../../pages/render";
import { EMPTY_APP_FORM } from "../../pages/settings/app-form";
import { AppListPage } from "../../pages/settings/app-list";
import { NewAppPage, NewAppTypePage } from "../../pages/settings/app-new";
import { listClientsOfTeam } from "../../store/clients";
import { dbOf } from "../../store/db";
import { csrfToken } from "../session";
import type { SettingsContext } from "./access";
import { appInput, formValuesFrom, pageTeamOrError, parseAppType, refusal, summaryOf } from "./app-views";
import { renderCredentials } from "./credentials";

const NOTICES: Record<string, string> = {
  deleted: "The app was deleted and every token it held was revoked.",
};

export async function showAppList(c: SettingsContext): Promise<Response> {
  const team = await pageTeamOrError(c, c.req.query("team"));
  if (team instanceof Response) return team;
  // Every client bound to the team: the ones admins created and the self-registered ones people allowed.
  const clients = await listClientsOfTeam(dbOf(c.env.DB), team.teamId);
  return renderPage(
    c,
    AppListPage({ ...team, apps: clients.map(summaryOf), notice: NOTICES[c.req.query("done") ?? ""] }),
  );
}

export async function showNewApp(c: SettingsContext): Promise<Response> {
  const team = await pageTeamOrError(c, c.req.query("team"));
  if (team instanceof Response) return team;
  const type = parseAppType(c.req.query("type"));
  if (!type) return renderPage(c, NewAppTypePage(team));
  return renderPage(c, NewAppPage({ ...team, type, values: EMPTY_APP_FORM, csrf: csrfToken(c) }));
}

export async function createFromForm(c: SettingsContext): Promise<Response> {
  const form = c.get("form");
  const team = await pageTeamOrError(c, form.get("team"));
  if (team instanceof Response) return team;
  const type = parseAppType(form.get("type"));
  if (!type) return renderPage(c, NewAppTypePage(team), 400);
  const values = formValuesFrom(form);
  const again = (error: string) => renderPage(c, NewAppPage({ ...team, type, values, error, csrf: csrfToken(c) }), 400);
  const checked = appInput(type, values, true);
  if ("problem" in checked) return again(checked.problem);
  let created: Awaited<ReturnType<typeof createApp>>;
  try {
    created = await createApp(c.env, c.get("actor"), team.teamId, checked.input);
  } catch (e) {
    return again(refusal(e));
  }
  return renderCredentials(c, {
    heading: `${String(created.app.name)} is ready${created.clientSecret ? ": save its secret" : ""}`,
    app: created.app,
    clientSecret: created.clientSecret,
  });
}
