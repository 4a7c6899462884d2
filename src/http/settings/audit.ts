/**
 * GET /settings/audit[?kind=…&before=…&team=…]: the team's audit events for its admins, newest
 * first, a page at a time (`before` = the last id seen), through the teamAudit use case.
 */
import { teamAudit } from "../../oauth/admin-apps";
import { renderPage } from "../../pages/render";
import { type AuditEntry, AuditPage, isAuditKind } from "../../pages/settings/audit";
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
  let team: Awaited<ReturnType<typeof pageTeam>>;
  let page: Awaited<ReturnType<typeof teamAudit>>;
  try {
    team = await pageTeam(c, query.team);
    page = await teamAudit(c.env, team.teamId, { before: query.before, kind, limit: String(AUDIT_PAGE_SIZE) });
  } catch (e) {
    return errorPage(c, e);
  }
  const events = await named(c, page.events);
  const older = new URLSearchParams({
    ...(query.team ? { team: query.team } : {}),
    ...(kind ? { kind } : {}),
    before: String(page.next_before),
  });
  return renderPage(
    c,
    AuditPage({
      teamName: team.teamName,
      events,
      kind,
      olderHref: page.next_before ? `/settings/audit?${older}` : undefined,
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
