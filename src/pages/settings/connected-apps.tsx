/** The apps a person has allowed to use their account: what each may do, since when, last use; revoke. */

import type { ConnectedApp } from "../../oauth/connected-apps";
import { ScopeAreasSummary } from "../scope-areas";
import { Moment, ORIGIN_LABELS } from "./format";
import { SettingsFrame } from "./frame";

export type { ConnectedApp };

export interface ConnectedAppsPageProps {
  apps: ConnectedApp[];
  isAdmin: boolean;
  notice?: string;
  csrf: string;
}

export function ConnectedAppsPage(props: ConnectedAppsPageProps) {
  return (
    <SettingsFrame title="Connected apps" section="connected-apps" isAdmin={props.isAdmin} notice={props.notice}>
      <h1>Apps connected to your account</h1>
      <p>
        These apps can act for you within what you allowed and what your role permits. Revoking one signs it out at
        once; it has to ask you again to get back in.
      </p>
      {props.apps.length === 0 ? <p class="muted">You have not connected any app.</p> : null}
      <ul class="card-list">
        {props.apps.map((app, i) => (
          <li class="card">
            <h2 class="card-title" id={`app-${i}`}>
              {app.name}
            </h2>
            {app.origin === "admin" ? null : (
              <p class="tags">
                <span class="tag warn">{ORIGIN_LABELS[app.origin]}</span>
              </p>
            )}
            <dl class="facts">
              <dt>May</dt>
              <dd>
                <ScopeAreasSummary scopes={app.scopes} />
              </dd>
              <dt>Allowed</dt>
              <dd>
                <Moment at={app.allowedAt} />
                {app.automatic ? <span class="muted"> (trusted by your team, no question asked)</span> : null}
              </dd>
              <dt>Last used</dt>
              <dd>
                <Moment at={app.lastUsedAt} />
              </dd>
            </dl>
            <form method="post" action="/settings/connected-apps">
              <input type="hidden" name="csrf" value={props.csrf} />
              <input type="hidden" name="client_id" value={app.clientId} />
              <button type="submit" class="danger" aria-describedby={`app-${i}`}>
                Revoke access
              </button>
            </form>
          </li>
        ))}
      </ul>
    </SettingsFrame>
  );
}
