import { getTableColumns, type Table } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { WriteBatch } from "../platform/write-batch";
import * as schema from "./schema";

export type Db = DrizzleD1Database<typeof schema>;

const instances = new WeakMap<D1Database, Db>();

/** One drizzle instance per D1 binding per isolate. */
export function dbOf(d1: D1Database): Db {
  let db = instances.get(d1);
  if (!db) {
    db = drizzle(d1, { schema });
    instances.set(d1, db);
  }
  return db;
}

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

/** One value per drizzle instance (so per D1 binding and isolate), made on first use. */
export function perDb<T>(make: (db: Db) => T): (db: Db) => T {
  const made = new WeakMap<Db, T>();
  return (db) => {
    let value = made.get(db);
    if (value === undefined) {
      value = make(db);
      made.set(db, value);
    }
    return value;
  };
}

/**
 * Rows written after the response, gathered per isolate and D1 binding (platform/write-batch.ts):
 * one round trip per 100 ms window, however many requests added rows. `write` must be idempotent.
 * The returned function's promise settles once the row is in D1: hand it to waitUntil.
 */
export function writtenLater<Row>(write: (db: Db, rows: Row[]) => Promise<void>): (db: Db, row: Row) => Promise<void> {
  const batchOf = perDb((db) => new WriteBatch<Row>((rows) => write(db, rows), { windowMs: 100, waitMs: 2000 }));
  return (db, row) => batchOf(db).add(row);
}
