/** Consents: per user and client, accumulated over time (incremental authorization). */
import { and, desc, eq, sql } from "drizzle-orm";
import type { Db } from "./db";
import { clients, consents } from "./schema";

export async function consentedScopes(db: Db, userId: string, clientId: string): Promise<Set<string>> {
  const row = await db
    .select({ scopes: consents.scopes })
    .from(consents)
    .where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)))
    .get();
  return new Set(row?.scopes ?? []);
}

/** Adds `scopes` to what the user already consented to for this client. */
export async function addConsent(db: Db, userId: string, clientId: string, scopes: string[]): Promise<void> {
  const existing = await consentedScopes(db, userId, clientId);
  const merged = [...new Set([...existing, ...scopes])];
  const now = Date.now();
  await db
    .insert(consents)
    .values({ userId, clientId, scopes: merged, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({ target: [consents.userId, consents.clientId], set: { scopes: merged, updatedAt: now } });
}

export async function deleteConsent(db: Db, userId: string, clientId: string): Promise<void> {
  await db.delete(consents).where(and(eq(consents.userId, userId), eq(consents.clientId, clientId)));
}

/**
 * Fixes the team of a self-registered client on its first authorization; later calls change
 * nothing. Returns the team the client now belongs to.
 */
export async function bindClientTeam(db: Db, clientId: string, teamId: string): Promise<string | null> {
  await db
    .update(clients)
    .set({ teamId, updatedAt: sql`(unixepoch('subsec') * 1000)` })
    .where(and(eq(clients.id, clientId), sql`${clients.teamId} IS NULL`));
  const row = await db.select({ teamId: clients.teamId }).from(clients).where(eq(clients.id, clientId)).get();
  return row?.teamId ?? null;
}

/** The apps a user has allowed, newest first, with what the connected-apps page shows of each client. */
export function listConsentsOfUser(db: Db, userId: string) {
  return db
    .select({
      clientId: consents.clientId,
      clientName: clients.name,
      origin: clients.origin,
      scopes: consents.scopes,
      createdAt: consents.createdAt,
      updatedAt: consents.updatedAt,
    })
    .from(consents)
    .innerJoin(clients, eq(clients.id, consents.clientId))
    .where(eq(consents.userId, userId))
    .orderBy(desc(consents.updatedAt))
    .all();
}
