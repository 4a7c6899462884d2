/**
 * The activity a team's admins see at a glance on the audit page: sign-ins, consents and new token
 * grants per UTC day over the last 30 days, every day present (zero when nothing happened).
 */

import { dailyAuditCounts } from "../store/audit";
import type { Db } from "../store/db";
import { dailyFamilyCounts } from "../store/token-families";

export const ACTIVITY_DAYS = 30;
const DAY_MS = 86_400_000;

export interface DailyActivity {
  /** "2026-11-03" … today, oldest first. */
  days: string[];
  series: { label: string; values: number[] }[];
}

export async function dailyActivity(db: Db, teamId: string, now = Date.now()): Promise<DailyActivity> {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const since = today - (ACTIVITY_DAYS - 1) * DAY_MS;
  const days = Array.from({ length: ACTIVITY_DAYS }, (_, i) => new Date(since + i * DAY_MS).toISOString().slice(0, 10));
  const [events, families] = await Promise.all([
    dailyAuditCounts(db, teamId, ["signin", "consent.granted"], since),
    dailyFamilyCounts(db, teamId, since),
  ]);
  const perDay = (rows: { day: string; count: number }[]) => {
    const byDay = new Map(rows.map((r) => [r.day, Number(r.count)]));
    return days.map((d) => byDay.get(d) ?? 0);
  };
  return {
    days,
    series: [
      { label: "Sign-ins", values: perDay(events.filter((e) => e.kind === "signin")) },
      { label: "Consents", values: perDay(events.filter((e) => e.kind === "consent.granted")) },
      // One token family = one authorization code issued, the start of its tokens (token-families.ts).
      { label: "New token grants", values: perDay(families) },
    ],
  };
}
