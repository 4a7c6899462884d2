/**
 * GET /settings/audit[?kind=…&app=…&person=…&before=…&team=…]: the team's audit events for its
 * admins, newest first, a page at a time (`before` = the last id seen), filtered on the server,
 * through the teamAudit use case; above them the last 30 days at a glance (audit-activity.ts).
 */
import { teamAudit } from "../../oauth/admin-apps";
import { dailyActivity } from "../../oauth/audit-activity";
import { renderPage } from "../../pages/render";
import { type AuditEntry, AuditPage, isAuditKind } from "../../pages/settings/audit";
import { auditFacets } from "../../store/audit";
import { getClient } from "../../store/clients";
import { dbOf } from "../../store/db";
import { getUser } from "../../store/users";
import type { SettingsContext } from "./access";
import { errorPage, pageTeam } from "./app-views";

export const AUDIT_PAGE_SIZE = 50;

type RawEvent = Awaited<ReturnType<typeof teamAudit>>["events"][number];

const text = (value: unknown): string | null => (typeof value === "string" ? value : null);

export async function showAudit(c: SettingsContext): Promise<Response> {
  const query = c.req.query();
  const kind = query.kind && isAuditKind(query.kind) ? query.kind : undefined;
  const filters = { kind, app: query.app || undefined, person: query.person || undefined };
  let team: Awaited<ReturnType<typeof pageTeam>>;
  let page: Awaited<ReturnType<typeof teamAudit>>;
  try {
    team = await pageTeam(c, query.team);
    page = await teamAudit(c.env, team.teamId, {
      before: query.before,
      kind,
      client_id: filters.app,
      actor_user_id: filters.person,
      limit: String(AUDIT_PAGE_SIZE),
    });
  } catch (e) {
    return errorPage(c, e);
  }
  const db = dbOf(c.env.DB);
  const [events, facets, chart] = await Promise.all([
    named(c, page.events),
    auditFacets(db, team.teamId),
    dailyActivity(db, team.teamId),
  ]);
  const link = (before?: number) => {
    const params = new URLSearchParams();
    if (query.team) params.set("team", query.team);
    for (const [name, value] of Object.entries(filters)) if (value) params.set(name, value);
    if (before) params.set("before", String(before));
    return `/settings/audit${params.size > 0 ? `?${params}` : ""}`;
  };
  return renderPage(
    c,
    AuditPage({
      teamName: team.teamName,
      events,
      filters,
      apps: facets.apps.map((a) => ({ id: a.id, label: a.name ?? `${a.id} (deleted)` })),
      people: facets.people,
      chart,
      newestHref: link(),
      olderHref: page.next_before ? link(page.next_before) : undefined,
      paged: Boolean(query.before),
    }),
  );
}

/** People by email (or name) and apps by name instead of ids; ids stay when the row is gone. */
async function named(c: SettingsContext, raw: RawEvent[]): Promise<AuditEntry[]> {
  const db = dbOf(c.env.DB);
  const ids = (field: string) => [...new Set(raw.map((e) => text(e[field])).filter((v): v is string => !!v))];
  const [people, apps] = await Promise.all([
    Promise.all(ids("actor_user_id").map(async (id) => [id, await getUser(db, id)] as const)),
    Promise.all(ids("client_id").map(async (id) => [id, await getClient(db, id)] as const)),
  ]);
  const personOf = new Map(people.map(([id, user]) => [id, user?.email ?? user?.name ?? id]));
  const appOf = new Map(apps.map(([id, client]) => [id, client?.name ?? null]));
  return raw.map((e) => {
    const detail = (e.detail ?? {}) as Record<string, unknown>;
    const actorId = text(e.actor_user_id);
    const clientId = text(e.client_id);
    const via = detail.via === "admin_api_token" ? "the operator (admin API token)" : "";
    return {
      id: Number(e.id),
      kind: String(e.kind),
      actor: actorId ? (personOf.get(actorId) ?? actorId) : via,
      app: clientId ? (appOf.get(clientId) ?? `${text(detail.name) ?? clientId} (deleted)`) : null,
      ip: text(e.ip),
      detail,
      createdAt: Date.parse(String(e.created_at)),
    };
  });
}
