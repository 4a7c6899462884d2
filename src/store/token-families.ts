/**
 * The D1 index of token families: lists and bulk revocation by client or user. The authoritative
 * state of each family is in its user's UserGrants object.
 */
import { and, desc, eq, gte, inArray, isNull, sql } from "drizzle-orm";
import { utcDay } from "./audit";
import { type Db, insertInChunks, writtenLater } from "./db";
import { clients, tokenFamilies } from "./schema";

export type TokenFamilyRow = typeof tokenFamilies.$inferSelect;

type NewFamily = typeof tokenFamilies.$inferInsert;

/**
 * Adds a family to the index now, for a caller that must see the row before it goes on (a device
 * approval may have to mark it revoked at once). The same insert as the batches below.
 */
export function insertTokenFamily(db: Db, row: NewFamily): Promise<void> {
  return insertTokenFamilies(db, [row]);
}

/**
 * Adds a family to the index after the response: pass the promise to waitUntil; it settles once
 * the row is in D1. The rows of one isolate go together (store/db.ts `writtenLater`): the window is
 * short against how soon a person looks at a listing, and the index is not what refuses a token
 * (the family's UserGrants object is).
 */
export const indexTokenFamily = writtenLater(insertTokenFamilies);

/** Idempotent: a row already indexed is left as it is (a batch may be retried row by row). */
function insertTokenFamilies(db: Db, rows: NewFamily[]): Promise<void> {
  return insertInChunks(db, tokenFamilies, rows, (chunk) =>
    db.insert(tokenFamilies).values(chunk).onConflictDoNothing(),
  );
}

export function liveFamiliesOfClient(db: Db, clientId: string) {
  return db
    .select({ id: tokenFamilies.id, userId: tokenFamilies.userId })
    .from(tokenFamilies)
    .where(and(eq(tokenFamilies.clientId, clientId), isNull(tokenFamilies.revokedAt)))
    .all();
}

export async function markFamiliesRevoked(db: Db, ids: string[], now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) {
    await db
      .update(tokenFamilies)
      .set({ revokedAt: now })
      .where(and(inArray(tokenFamilies.id, ids.slice(i, i + 50)), isNull(tokenFamilies.revokedAt)));
  }
}

/**
 * Per client, the user's token families: the first authorization, the latest one (the caller merges
 * in the latest token use, which UserGrants records), and how many families are still live. Deleted clients drop out.
 */
export function familyUsageOfUser(db: Db, userId: string) {
  return db
    .select({
      clientId: tokenFamilies.clientId,
      clientName: clients.name,
      origin: clients.origin,
      firstAt: sql<number>`min(${tokenFamilies.createdAt})`,
      lastUsedAt: sql<number>`max(${tokenFamilies.createdAt})`,
      liveFamilies: sql<number>`sum(${tokenFamilies.revokedAt} is null)`,
    })
    .from(tokenFamilies)
    .innerJoin(clients, eq(clients.id, tokenFamilies.clientId))
    .where(eq(tokenFamilies.userId, userId))
    .groupBy(tokenFamilies.clientId)
    .all();
}

/** Scopes of the user's live families, one row per family (an app allowed without a consent screen). */
export function liveFamilyScopesOfUser(db: Db, userId: string) {
  return db
    .select({ clientId: tokenFamilies.clientId, scopes: tokenFamilies.scopes })
    .from(tokenFamilies)
    .where(and(eq(tokenFamilies.userId, userId), isNull(tokenFamilies.revokedAt)))
    .all();
}

/** The newest of the user's families with this client (any state), with the client's name; or undefined. */
export function latestFamilyOfUserWithClient(db: Db, userId: string, clientId: string) {
  return db
    .select({ teamId: tokenFamilies.teamId, clientName: clients.name })
    .from(tokenFamilies)
    .innerJoin(clients, eq(clients.id, tokenFamilies.clientId))
    .where(and(eq(tokenFamilies.userId, userId), eq(tokenFamilies.clientId, clientId)))
    .orderBy(desc(tokenFamilies.createdAt))
    .get();
}

/**
 * Token families started per UTC day since `since` (ms): each is one authorization whose code was
 * issued, the start of its tokens. Refresh rotations and client_credentials tokens are not indexed
 * in D1 (the token path writes none), so they are not counted here.
 */
export function dailyFamilyCounts(db: Db, teamId: string, since: number) {
  const day = utcDay(tokenFamilies.createdAt);
  return db
    .select({ day, count: sql<number>`count(*)` })
    .from(tokenFamilies)
    .where(and(eq(tokenFamilies.teamId, teamId), gte(tokenFamilies.createdAt, since)))
    .groupBy(day)
    .all();
}
