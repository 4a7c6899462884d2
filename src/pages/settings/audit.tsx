/**
 * The team's audit log: a chart of the last 30 days, then security events newest first, each as a
 * sentence (audit-sentence.ts) with its raw detail behind a <details>, a page at a time, filterable
 * by kind, app and person (query parameters, read on the server).
 */
import type { AuditKind } from "../../store/audit";
import { AuditChart, type AuditChartProps } from "./audit-chart";
import { auditSentence } from "./audit-sentence";
import { Moment } from "./format";
import { SettingsFrame } from "./frame";

/** Every kind the log records, in words (a Record, so a new kind cannot be forgotten here). */
export const AUDIT_KIND_LABELS: Record<AuditKind, string> = {
  "client.registered": "App registered itself",
  "client.created": "App created",
  "client.updated": "App changed",
  "client.secret_reset": "App secret reset",
  "client.tokens_revoked": "Every token of an app revoked",
  "client.deleted": "App deleted",
  "consent.granted": "Access allowed",
  "consent.denied": "Access denied",
  "consent.revoked": "Access revoked by the person",
  "device.approved": "Access allowed for a device",
  "device.denied": "Access denied to a device",
  signin: "Signed in",
  signout: "Signed out",
  "token.revoked": "Token revoked",
  "refresh.reuse_detected": "Stolen refresh token suspected (reuse)",
  "code.replay_detected": "Authorization code used twice",
  "keys.rotated": "Signing keys rotated",
  "member.role_changed": "Someone's roles changed",
  "member.removed": "Someone removed from the team",
  "member.invited": "Someone invited",
  "member.invitation_withdrawn": "Invitation withdrawn",
  "member.joined": "Someone joined by invitation",
};

export { isAuditKind } from "./audit-sentence";

export interface AuditEntry {
  id: number;
  kind: string;
  /** Email or name of the person, "the operator (admin API token)", or empty when nobody acted. */
  actor: string;
  /** Name of the app, or its id when it no longer exists. */
  app: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
  createdAt: number;
}

export interface AuditFilters {
  kind?: AuditKind;
  /** Client id. */
  app?: string;
  /** User id. */
  person?: string;
}

export interface AuditPageProps {
  teamName: string;
  events: AuditEntry[];
  filters: AuditFilters;
  /** What the app and person filters offer: the apps and people that appear in the team's log. */
  apps: { id: string; label: string }[];
  people: { id: string; label: string }[];
  chart: AuditChartProps;
  /** The newest page with the same filters, and the next (older) page when there is one. */
  newestHref: string;
  olderHref?: string;
  /** True when this is not the newest page. */
  paged: boolean;
}

const KIND_OPTIONS = Object.entries(AUDIT_KIND_LABELS).map(([id, label]) => ({ id, label }));

function Select(props: {
  id: string;
  label: string;
  every: string;
  options: { id: string; label: string }[];
  selected?: string;
}) {
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.id}>
        <option value="">{props.every}</option>
        {props.options.map((o) => (
          <option value={o.id} selected={o.id === props.selected}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  );
}

export function AuditPage(props: AuditPageProps) {
  const { filters } = props;
  return (
    <SettingsFrame title="Audit log" section="audit" isAdmin>
      <h1>Audit log of {props.teamName}</h1>
      <AuditChart {...props.chart} />
      <h2>Events</h2>
      <form method="get" action="/settings/audit" class="filter">
        {[
          { id: "kind", label: "Kind", every: "Every kind", selected: filters.kind, options: KIND_OPTIONS },
          { id: "app", label: "App", every: "Every app", selected: filters.app, options: props.apps },
          { id: "person", label: "Person", every: "Everyone", selected: filters.person, options: props.people },
        ].map((filter) => (
          <Select {...filter} />
        ))}
        <button type="submit">Filter</button>
      </form>
      {props.events.length === 0 ? (
        <p class="muted">No events{props.paged ? " on this page" : ""}.</p>
      ) : (
        <ol class="events" aria-label="Events, newest first">
          {props.events.map((e) => (
            <li>
              <p class="sentence">{auditSentence(e)}</p>
              <p class="field-hint">
                <Moment at={e.createdAt} /> · {AUDIT_KIND_LABELS[e.kind as AuditKind] ?? "Event"} <code>{e.kind}</code>
                {e.ip ? ` · from ${e.ip}` : ""}
              </p>
              {Object.keys(e.detail).length > 0 ? (
                <details>
                  <summary>
                    Recorded detail<span class="vh"> of event {e.id}</span>
                  </summary>
                  <code class="detail">{JSON.stringify(e.detail)}</code>
                </details>
              ) : null}
            </li>
          ))}
        </ol>
      )}
      <nav class="pager" aria-label="Pages">
        {props.paged ? <a href={props.newestHref}>Newest events</a> : <span />}
        {props.olderHref ? <a href={props.olderHref}>Older events</a> : null}
      </nav>
    </SettingsFrame>
  );
}
