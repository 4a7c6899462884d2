/**
 * The OAuth applications of a team: what each one is, what it may do, when it was made and last
 * used; a way to create one. Apps that registered themselves and that someone in the team allowed
 * are listed too, marked, so admins can see and remove them.
 */
import type { AppType } from "../../oauth/admin-apps";
import { ScopeAreasSummary } from "../scope-areas";
import { APP_TYPE_LABELS, Moment, ORIGIN_LABELS } from "./format";
import { SettingsFrame } from "./frame";

export interface AppSummary {
  clientId: string;
  name: string;
  type: AppType;
  origin: "admin" | "registered" | "metadata_document";
  /** How it authenticates: private_key_jwt apps have keys, not a secret (RFC 7523). */
  authMethod: string;
  grantTypes: readonly string[];
  scopes: readonly string[];
  createdAt: number;
  lastUsedAt: number | null;
}

export interface AppListPageProps {
  teamName: string;
  /** When the person administers several teams: links to the others. */
  otherTeams: { teamId: string; teamName: string }[];
  teamId: string;
  apps: AppSummary[];
  notice?: string;
}

export const appPath = (clientId: string, action = "") =>
  `/settings/oauth-applications/${encodeURIComponent(clientId)}${action ? `/${action}` : ""}`;

export function AppListPage(props: AppListPageProps) {
  return (
    <SettingsFrame title="OAuth applications" section="oauth-applications" isAdmin notice={props.notice}>
      <h1>OAuth applications of {props.teamName}</h1>
      <p>Apps that people in your team can connect to their account, and services that use the API on their own.</p>
      {props.otherTeams.length > 0 ? (
        <p>
          Other teams you manage:{" "}
          {props.otherTeams.map((t, i) => (
            <>
              {i > 0 ? ", " : ""}
              <a href={`/settings/oauth-applications?team=${encodeURIComponent(t.teamId)}`}>{t.teamName}</a>
            </>
          ))}
        </p>
      ) : null}
      <p>
        <a class="button primary" href={`/settings/oauth-applications/new?team=${encodeURIComponent(props.teamId)}`}>
          Create an app
        </a>
      </p>
      <h2>
        {props.apps.length === 0 ? "No apps yet" : `${props.apps.length} app${props.apps.length === 1 ? "" : "s"}`}
      </h2>
      <ul class="card-list">
        {props.apps.map((app) => (
          <AppCard app={app} />
        ))}
      </ul>
    </SettingsFrame>
  );
}

function AppCard({ app }: { app: AppSummary }) {
  const selfRegistered = app.origin !== "admin";
  return (
    <li class="card">
      <h3>
        <a href={appPath(app.clientId)}>{app.name}</a>
      </h3>
      <p class="tags">
        <span class="tag">{APP_TYPE_LABELS[app.type].name}</span>
        {app.origin === "admin" ? null : <span class="tag warn">{ORIGIN_LABELS[app.origin]}</span>}
      </p>
      <dl class="facts">
        <dt>Client ID</dt>
        <dd>
          <code>{app.clientId}</code>
        </dd>
        <dt>Grants</dt>
        <dd>{app.grantTypes.join(", ")}</dd>
        <dt>Permissions</dt>
        <dd>
          <ScopeAreasSummary scopes={app.scopes} />
        </dd>
        <dt>Created</dt>
        <dd>
          <Moment at={app.createdAt} />
        </dd>
        <dt>Last used</dt>
        <dd>
          <Moment at={app.lastUsedAt} />
        </dd>
      </dl>
      <p>
        <a href={appPath(app.clientId)} aria-label={`${selfRegistered ? "Manage" : "Edit"} ${app.name}`}>
          {selfRegistered ? "Manage" : "Edit"}
        </a>
      </p>
    </li>
  );
}
