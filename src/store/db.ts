import { fillPlaceholders, getTableColumns, type Placeholder, type Query, sql, type Table } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { WriteBatch } from "../platform/write-batch";
import * as schema from "./schema";

/** `$client`: the D1 binding underneath, for the statements runPrepared hands D1 itself. */
export type Db = DrizzleD1Database<typeof schema> & { $client: D1Database };

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
 * Every column of `table` but `except` as a placeholder of its own name: the values of an insert of
 * whole rows that drizzle builds once (`.prepare()`), the row itself filling them in (runPrepared).
 */
export function wholeRow<T extends Table, Omitted extends string = never>(
  table: T,
  except: readonly Omitted[] = [],
): { [K in Exclude<keyof T["$inferInsert"], Omitted>]-?: Placeholder } {
  const names = Object.keys(getTableColumns(table)).filter((name) => !(except as readonly string[]).includes(name));
  return Object.fromEntries(names.map((name) => [name, sql.placeholder(name)])) as {
    [K in Exclude<keyof T["$inferInsert"], Omitted>]-?: Placeholder;
  };
}

/**
 * Runs statements drizzle prepared once per isolate (perDb, with placeholders) in one D1 batch, a
 * transaction, each with its values. drizzle builds an insert column by column: on registration,
 * building the clients insert and its audit event was about 15% of the isolate's CPU samples.
 * drizzle's own `batch` binds a prepared statement's placeholders unfilled, so they are filled here
 * as its prepared queries fill them: each through its column's encoder (JSON, booleans).
 */
export async function runPrepared(
  db: Db,
  statements: readonly (readonly [prepared: { getQuery(): Query }, values: Record<string, unknown>])[],
): Promise<void> {
  await db.$client.batch(
    statements.map(([prepared, values]) => {
      const query = prepared.getQuery();
      return db.$client.prepare(query.sql).bind(...fillPlaceholders(query.params, values));
    }),
  );
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
