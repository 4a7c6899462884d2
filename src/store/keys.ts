/** Signing-key records in D1. Private parts arrive here already encrypted. */
import { and, eq, gt, or, sql } from "drizzle-orm";
import type { Db } from "./db";
import { signingKeys } from "./schema";

export type SigningKeyRow = typeof signingKeys.$inferSelect;
export type KeyAlg = SigningKeyRow["alg"];

/** Current keys plus retired ones still inside their publication window. */
export function listPublishedKeys(db: Db, now: number): Promise<SigningKeyRow[]> {
  return db
    .select()
    .from(signingKeys)
    .where(or(eq(signingKeys.status, "current"), gt(signingKeys.publishUntil, now)))
    .orderBy(signingKeys.createdAt)
    .all();
}

/**
 * Inserts `row` as the current key of its algorithm only if there is none yet: one SQL statement,
 * so isolates racing on first start converge on a single current key.
 */
export async function insertFirstKey(db: Db, row: SigningKeyRow): Promise<void> {
  await db.run(sql`
    INSERT INTO signing_keys (kid, alg, status, public_jwk, private_jwk_encrypted, created_at, publish_until)
    SELECT ${row.kid}, ${row.alg}, 'current', ${JSON.stringify(row.publicJwk)}, ${row.privateJwkEncrypted},
           ${row.createdAt}, NULL
    WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = ${row.alg} AND status = 'current')`);
}

/** Makes `row` current and retires the previous current key of its algorithm, in one transaction. */
export async function replaceCurrentKey(db: Db, row: SigningKeyRow, retiredPublishUntil: number): Promise<void> {
  await db.batch([
    db
      .update(signingKeys)
      .set({ status: "retired", publishUntil: retiredPublishUntil })
      .where(and(eq(signingKeys.alg, row.alg), eq(signingKeys.status, "current"))),
    db.insert(signingKeys).values({ ...row, status: "current", publishUntil: null }),
  ]);
}
