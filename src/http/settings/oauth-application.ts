/**
 * One app of the team, for team admins (`:id` is the URL-encoded client id):
 *   GET  /settings/oauth-applications/:id                        its page and the edit form
 *   POST /settings/oauth-applications/:id                        save the edit
 *   GET|POST /settings/oauth-applications/:id/reset-secret       confirm | new secret, shown once
 *   GET|POST /settings/oauth-applications/:id/revoke-tokens      confirm | every token dies
 *   GET|POST /settings/oauth-applications/:id/delete             confirm | revoke everything, delete
 * Every change is one of the audited use cases of src/oauth/admin-apps.ts.
 */
import { appView, deleteApp, findApp, resetAppSecret, revokeAppTokens, updateApp } from "../../oauth/admin-apps";
import { renderErrorPage, renderPage } from "../../pages/render";
import { AppPage, hasSecret, isEditable } from "../../pages/settings/app-edit";
import type { AppFormValues } from "../../pages/settings/app-form";
import { appPath } from "../../pages/settings/app-list";
import { ConfirmPage } from "../../pages/settings/confirm";
import type { ClientRow } from "../../store/clients";
import { csrfToken } from "../session";
import type { SettingsContext } from "./access";
import { appInput, errorPage, formValuesFrom, formValuesOf, refusal, summaryOf } from "./app-views";
import { renderCredentials } from "./credentials";

const NOTICES: Record<string, string> = {
  updated: "Your changes were saved.",
  tokens_revoked: "Every token of this app was revoked. People have to allow it again to use it.",
};

/** The app named in the path, if the person administers its team; else the 404/403 page. */
async function appOfPath(c: SettingsContext): Promise<ClientRow | Response> {
  try {
    return await findApp(c.env, c.get("actor"), c.req.param("id") ?? "");
  } catch (e) {
    return errorPage(c, e);
  }
}

function appPage(c: SettingsContext, client: ClientRow, extra: { values?: AppFormValues; error?: string } = {}) {
  const page = AppPage({
    app: {
      ...summaryOf(client),
      redirectUris: client.redirectUris,
      automaticConsent: client.automaticConsent,
      tokensRevokedAt: client.revokedBefore,
      locationHint: client.locationHint,
    },
    values: extra.values ?? formValuesOf(client),
    error: extra.error,
    notice: NOTICES[c.req.query("done") ?? ""],
    csrf: csrfToken(c),
  });
  return renderPage(c, page, extra.error ? 400 : 200);
}

export async function showApp(c: SettingsContext): Promise<Response> {
  const client = await appOfPath(c);
  return client instanceof Response ? client : appPage(c, client);
}

export async function updateFromForm(c: SettingsContext): Promise<Response> {
  const client = await appOfPath(c);
  if (client instanceof Response) return client;
  if (!isEditable(summaryOf(client))) return notOurs(c);
  // The auth method is fixed at creation: the form only edits a private_key_jwt app's keys.
  const values = { ...formValuesFrom(c.get("form")), authMethod: formValuesOf(client).authMethod };
  const checked = appInput(summaryOf(client).type, values, false);
  if ("problem" in checked) return appPage(c, client, { values, error: checked.problem });
  try {
    await updateApp(c.env, c.get("actor"), client.id, checked.input);
  } catch (e) {
    return appPage(c, client, { values, error: refusal(e) });
  }
  return c.redirect(`${appPath(client.id)}?done=updated`, 303);
}

const CONFIRMATIONS = {
  "reset-secret": {
    title: (name: string) => `Reset the secret of ${name}?`,
    consequences: [
      "A new secret is made and shown to you once.",
      "The current secret stops working at once: the app cannot get new tokens until it has the new one.",
    ],
    button: "Reset the secret",
  },
  "revoke-tokens": {
    title: (name: string) => `Revoke every token of ${name}?`,
    consequences: [
      "Every access and refresh token the app holds stops working at once.",
      "People who use it have to allow it again; the app and its settings stay.",
    ],
    button: "Revoke every token",
  },
  delete: {
    title: (name: string) => `Delete ${name}?`,
    consequences: [
      "Every token the app holds stops working at once, and everyone's permission for it is removed.",
      "The app is deleted for good; its client ID will not work again.",
    ],
    button: "Delete the app",
  },
} as const;

export type AppAction = keyof typeof CONFIRMATIONS;

export function confirmAction(action: AppAction) {
  return async (c: SettingsContext): Promise<Response> => {
    const client = await appOfPath(c);
    if (client instanceof Response) return client;
    if (action === "reset-secret" && !hasSecret(summaryOf(client))) return notOurs(c);
    const text = CONFIRMATIONS[action];
    return renderPage(
      c,
      ConfirmPage({
        title: text.title(client.name),
        consequences: [...text.consequences],
        action: appPath(client.id, action),
        button: text.button,
        cancel: appPath(client.id),
        csrf: csrfToken(c),
      }),
    );
  };
}

export async function resetSecret(c: SettingsContext): Promise<Response> {
  const client = await appOfPath(c);
  if (client instanceof Response) return client;
  if (!hasSecret(summaryOf(client))) return notOurs(c);
  const reset = await orErrorPage(c, () => resetAppSecret(c.env, c.get("actor"), client.id));
  if (reset instanceof Response) return reset;
  return renderCredentials(c, {
    heading: `New secret for ${client.name}`,
    app: appView(client),
    clientSecret: reset.client_secret,
  });
}

export async function revokeTokens(c: SettingsContext): Promise<Response> {
  const client = await appOfPath(c);
  if (client instanceof Response) return client;
  const done = await orErrorPage(c, () => revokeAppTokens(c.env, c.get("actor"), client.id));
  if (done instanceof Response) return done;
  return c.redirect(`${appPath(client.id)}?done=tokens_revoked`, 303);
}

export async function deleteFromForm(c: SettingsContext): Promise<Response> {
  const client = await appOfPath(c);
  if (client instanceof Response) return client;
  const done = await orErrorPage(c, () => deleteApp(c.env, c.get("actor"), client.id));
  if (done instanceof Response) return done;
  return c.redirect("/settings/oauth-applications?done=deleted", 303);
}

/** A use case's own refusal (say, the app was deleted a moment ago in another tab) as a page. */
async function orErrorPage<T>(c: SettingsContext, work: () => Promise<T>): Promise<T | Response> {
  try {
    return await work();
  } catch (e) {
    return errorPage(c, e);
  }
}

/** Self-registered apps and public apps: their settings and secret are not the team's to change. */
function notOurs(c: SettingsContext): Response {
  return renderErrorPage(c, {
    title: "Not possible for this app",
    message:
      "This app has no secret to reset, or it registered itself and its settings belong to whoever registered it. You can revoke its tokens or delete it.",
    status: 403,
  });
}
