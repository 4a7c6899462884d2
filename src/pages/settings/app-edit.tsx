/**
 * One app: its facts, the form to change it (apps the team created), and the actions that cannot be
 * undone — each leads to a confirmation page first.
 */

import { type AppOwnership, mayChangeApp } from "../../oauth/app-policy";
import { ScopeAreasSummary } from "../scope-areas";
import { AppFields, type AppFormValues, placementLabel } from "./app-form";
import { type AppSummary, appPath } from "./app-list";
import { APP_TYPE_LABELS, Moment, ORIGIN_LABELS } from "./format";
import { SettingsFrame } from "./frame";

export interface AppPageProps {
  app: AppSummary & {
    redirectUris: readonly string[];
    automaticConsent: boolean;
    tokensRevokedAt: number;
    /** A client_credentials app's location hint (null: near whoever created it). */
    locationHint: string | null;
  };
  values: AppFormValues;
  error?: string;
  notice?: string;
  csrf: string;
}

/** Self-registered apps belong to whoever registered them: the team can cut them off, not rewrite them. */
export const isEditable = (app: AppOwnership) => mayChangeApp(app, "edit");
export const hasSecret = (app: AppOwnership) => mayChangeApp(app, "reset_secret");

export function AppPage(props: AppPageProps) {
  const { app } = props;
  return (
    <SettingsFrame title={app.name} section="oauth-applications" isAdmin notice={props.notice}>
      <p>
        <a href="/settings/oauth-applications">← All apps</a>
      </p>
      <h1>{app.name}</h1>
      <dl class="facts">
        <dt>Client ID</dt>
        <dd>
          <code>{app.clientId}</code>
        </dd>
        <dt>Kind</dt>
        <dd>
          {APP_TYPE_LABELS[app.type].name}
          {app.origin === "admin" ? null : (
            <>
              {" "}
              <span class="tag warn">{ORIGIN_LABELS[app.origin]}</span>
            </>
          )}
        </dd>
        <dt>Grants</dt>
        <dd>{app.grantTypes.join(", ")}</dd>
        {app.type === "client_credentials" ? (
          <>
            <dt>Token checks run</dt>
            <dd>{placementLabel(app.locationHint)}</dd>
          </>
        ) : null}
        <dt>Created</dt>
        <dd>
          <Moment at={app.createdAt} />
        </dd>
        <dt>Last used</dt>
        <dd>
          <Moment at={app.lastUsedAt} />
        </dd>
        {app.tokensRevokedAt ? (
          <>
            <dt>Tokens revoked</dt>
            <dd>
              <Moment at={app.tokensRevokedAt} />
            </dd>
          </>
        ) : null}
      </dl>
      {isEditable(app) ? <EditForm {...props} /> : <ReadOnlyFacts app={app} />}
      <h2>Other actions</h2>
      <ul class="plain danger-zone">
        {hasSecret(app) ? (
          <li>
            <a href={appPath(app.clientId, "reset-secret")}>Reset the secret</a>
            <span class="field-hint block">Makes a new secret; the current one stops working at once.</span>
          </li>
        ) : null}
        <li>
          <a href={appPath(app.clientId, "revoke-tokens")}>Revoke every token</a>
          <span class="field-hint block">Everyone using the app is signed out of it; the app itself stays.</span>
        </li>
        <li>
          <a href={appPath(app.clientId, "delete")}>Delete the app</a>
          <span class="field-hint block">Revokes everything it holds and removes it for good.</span>
        </li>
      </ul>
    </SettingsFrame>
  );
}

function EditForm(props: AppPageProps) {
  return (
    <>
      <h2>Settings</h2>
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action={appPath(props.app.clientId)}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <AppFields type={props.app.type} values={props.values} creating={false} />
        <div class="actions">
          <button type="submit" class="primary">
            Save changes
          </button>
        </div>
      </form>
    </>
  );
}

function ReadOnlyFacts({ app }: { app: AppPageProps["app"] }) {
  return (
    <>
      <p class="notice" role="note">
        This app registered itself and someone in your team allowed it. Its settings belong to whoever registered it;
        you can revoke its tokens or delete it here.
      </p>
      <dl class="facts">
        <dt>Redirect URIs</dt>
        <dd>
          <ul class="plain">
            {app.redirectUris.map((uri) => (
              <li>
                <code>{uri}</code>
              </li>
            ))}
          </ul>
        </dd>
        <dt>Permissions</dt>
        <dd>
          <ScopeAreasSummary scopes={app.scopes} />
        </dd>
      </dl>
    </>
  );
}
