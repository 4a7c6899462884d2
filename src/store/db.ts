import { getTableColumns, type Table } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { oncePer } from "../platform/once-per";
import { WriteBatch } from "../platform/write-batch";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

/** One drizzle instance per D1 binding per isolate. */
export const dbOf = oncePer((d1: D1Database): Db => drizzle(d1, { schema }));

/** D1 binds at most 100 values per statement. */
const MAX_BOUND_VALUES = 100;

/**
 * Inserts `rows` into `table` as multi-row statements, all in one D1 batch: one round trip however
 * many rows. A row binds at most one value per column of the table, so each statement takes as many
 * rows as keep it within D1's 100 bound values, whatever columns the table gains later.
 */
export async function insertInChunks<Row>(
  db: Db,
  table: Table,
  rows: Row[],
  insert: (chunk: Row[]) => BatchItem<"sqlite">,
): Promise<void> {
  const perStatement = Math.floor(MAX_BOUND_VALUES / Object.keys(getTableColumns(table)).length);
  const statements: BatchItem<"sqlite">[] = [];
  for (let i = 0; i < rows.length; i += perStatement) statements.push(insert(rows.slice(i, i + perStatement)));
  const [first, ...rest] = statements;
  if (first) await db.batch([first, ...rest]);
}

/**
 * Rows written after the response, gathered per isolate and D1 binding (platform/write-batch.ts):
 * one round trip per 100 ms window, however many requests added rows. `write` must be idempotent.
 * The returned function's promise settles once the row is in D1: hand it to waitUntil.
 */
export function writtenLater<Row>(write: (db: Db, rows: Row[]) => Promise<void>): (db: Db, row: Row) => Promise<void> {
  const batchOf = oncePer((db: Db) => new WriteBatch<Row>((rows) => write(db, rows), { windowMs: 100, waitMs: 2000 }));
  return (db, row) => batchOf(db).add(row);
}
