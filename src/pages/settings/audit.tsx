/** The team's audit log: security events, newest first, a page at a time, filterable by kind. */
import type { AuditKind } from "../../store/audit";
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
};

export const isAuditKind = (kind: string): kind is AuditKind => Object.hasOwn(AUDIT_KIND_LABELS, kind);

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

export interface AuditPageProps {
  teamName: string;
  events: AuditEntry[];
  kind?: AuditKind;
  /** Link to the next (older) page, when there is one. */
  olderHref?: string;
  /** True when this is not the newest page. */
  paged: boolean;
}

export function AuditPage(props: AuditPageProps) {
  const newest = props.kind ? `/settings/audit?kind=${encodeURIComponent(props.kind)}` : "/settings/audit";
  return (
    <SettingsFrame title="Audit log" section="audit" isAdmin>
      <h1>Audit log of {props.teamName}</h1>
      <form method="get" action="/settings/audit" class="filter">
        <div>
          <label for="kind">Show</label>
          <select id="kind" name="kind">
            <option value="">Every event</option>
            {Object.entries(AUDIT_KIND_LABELS).map(([kind, label]) => (
              <option value={kind} selected={kind === props.kind}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      {props.events.length === 0 ? (
        <p class="muted">No events{props.paged ? " on this page" : ""}.</p>
      ) : (
        <ol class="events" aria-label="Events, newest first">
          {props.events.map((e) => (
            <li>
              <p class="event-head">
                <strong>{isAuditKind(e.kind) ? AUDIT_KIND_LABELS[e.kind] : e.kind}</strong> <Moment at={e.createdAt} />
              </p>
              <p class="field-hint">
                <code>{e.kind}</code>
                {e.actor ? ` · by ${e.actor}` : ""}
                {e.app ? ` · app ${e.app}` : ""}
                {e.ip ? ` · from ${e.ip}` : ""}
              </p>
              {Object.keys(e.detail).length > 0 ? <code class="detail">{JSON.stringify(e.detail)}</code> : null}
            </li>
          ))}
        </ol>
      )}
      <nav class="pager" aria-label="Pages">
        {props.paged ? <a href={newest}>Newest events</a> : <span />}
        {props.olderHref ? <a href={props.olderHref}>Older events</a> : null}
      </nav>
    </SettingsFrame>
  );
}
