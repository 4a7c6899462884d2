/**
 * Counts the storage round trips of one request: the worker's bindings (D1, the USER_GRANTS Durable
 * Object namespace, KV) are wrapped so every call is recorded — D1 statements and batches (a batch
 * is one round trip), each Durable Object RPC with the object it went to, each KV operation.
 *
 * Deferred writes: while a request runs, every D1 write is held at a gate until the response is out
 * (unless the request's answer needs its write), and every KV write always is. A handler that
 * awaited one would never answer (the test times out), so a write that happened "during" the
 * request provably did not delay it; the gate then opens, the waitUntil work finishes, and the test
 * can check that those writes landed.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../src/app";
import type { Env } from "../src/config";
import { ORIGIN } from "./helpers";

export interface BindingCall {
  binding: "DB" | "USER_GRANTS" | "RATE_LIMIT";
  /** D1: "read" (only SELECTs) or "write"; Durable Object: the RPC method; KV: the operation. */
  kind: string;
  /** Durable Object calls: the object's id (hex), and the location hint its stub was got with. */
  objectId?: string;
  locationHint?: string;
  /** D1: the SQL, for failure messages. */
  sql?: string;
}

export interface Measured {
  response: Response;
  /** Calls made before the response was returned (deferred D1 writes are listed in `deferred`). */
  calls: BindingCall[];
  /** The waitUntil work: D1 writes held at the gate until after the response, and calls made after it. */
  deferred: BindingCall[];
}

const isRead = (sql: string) => /^\s*(select|with)\b/i.test(sql);

class Recorder {
  calls: BindingCall[] = [];
  /** Closed while a measured request runs: D1 writes wait here (when held) and KV writes always do. */
  gate: Promise<void> | null = null;
  holdD1Writes = false;
  held: BindingCall[] = [];

  /** A call that writes: recorded as held and run once the gate opens, if the gate is closed. */
  async write<T>(call: BindingCall, hold: boolean, run: () => Promise<T>): Promise<T> {
    if (hold && this.gate) {
      this.held.push(call);
      await this.gate;
      return run();
    }
    this.calls.push(call);
    return run();
  }

  /** A D1 call: reads run at once; writes wait at the gate while it is closed. */
  async d1<T>(sqls: string[], run: () => Promise<T>): Promise<T> {
    const call: BindingCall = { binding: "DB", kind: sqls.every(isRead) ? "read" : "write", sql: sqls.join("; ") };
    return this.write(call, call.kind === "write" && this.holdD1Writes, run);
  }
}

const recorder = new Recorder();

function countingStatement(real: D1PreparedStatement, sql: string): D1PreparedStatement {
  const wrapped: D1PreparedStatement = Object.create(real);
  return Object.assign(wrapped, {
    bind: (...values: unknown[]) => countingStatement(real.bind(...values), sql),
    first: (column?: string) => recorder.d1([sql], () => (column ? real.first(column) : real.first())),
    all: () => recorder.d1([sql], () => real.all()),
    run: () => recorder.d1([sql], () => real.run()),
    raw: (options?: { columnNames?: boolean }) => recorder.d1([sql], () => real.raw(options as { columnNames: true })),
    [REAL]: real,
    [SQL]: sql,
  });
}
const REAL = Symbol("real statement");
const SQL = Symbol("sql");

function countingD1(real: D1Database): D1Database {
  return {
    prepare: (sql: string) => countingStatement(real.prepare(sql), sql),
    batch: (statements: D1PreparedStatement[]) => {
      const sqls = statements.map((s) => (s as unknown as Record<symbol, string>)[SQL] ?? "?");
      const reals = statements.map((s) => (s as unknown as Record<symbol, D1PreparedStatement>)[REAL] ?? s);
      return recorder.d1(sqls, () => real.batch(reals));
    },
    exec: (sql: string) => recorder.d1([sql], () => real.exec(sql)),
    dump: () => real.dump(),
    withSession: (...args: Parameters<D1Database["withSession"]>) => real.withSession(...args),
  } as D1Database;
}

function countingNamespace(real: Env["USER_GRANTS"]): Env["USER_GRANTS"] {
  const wrap = (stub: ReturnType<Env["USER_GRANTS"]["get"]>, options?: DurableObjectNamespaceGetDurableObjectOptions) =>
    new Proxy(stub, {
      get(target, prop) {
        const value = Reflect.get(target, prop);
        if (typeof prop !== "string" || prop === "id" || prop === "name" || typeof value !== "function") return value;
        return (...args: unknown[]) => {
          recorder.calls.push({
            binding: "USER_GRANTS",
            kind: prop,
            objectId: target.id.toString(),
            ...(options?.locationHint ? { locationHint: options.locationHint } : {}),
          });
          // An RPC method stub answers every property (even `apply`) as a remote call: call it directly.
          return (target as unknown as Record<string, (...a: unknown[]) => unknown>)[prop]!(...args);
        };
      },
    });
  return new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (prop === "get") {
        return (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) =>
          wrap(target.get(id, options), options);
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function countingKv(real: KVNamespace): KVNamespace {
  return new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      const run = (args: unknown[]) => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      return (...args: unknown[]) =>
        recorder.write({ binding: "RATE_LIMIT", kind: String(prop) }, prop === "put" || prop === "delete", () =>
          run(args),
        );
    },
  });
}

/**
 * One env for the whole test file: settings are parsed once per env object and the signing keyset
 * is cached per settings, so reusing it keeps the isolate's caches warm as in production.
 */
export const countingEnv: Env = {
  ...env,
  DB: countingD1(env.DB),
  USER_GRANTS: countingNamespace(env.USER_GRANTS),
  RATE_LIMIT: countingKv(env.RATE_LIMIT),
};

/** A request to the worker with the counting bindings; waits for its waitUntil work. */
export async function send(path: string, init?: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await app.fetch(new Request(`${ORIGIN}${path}`, init), countingEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * Runs one request, recording its binding calls, with D1 and KV writes held until the response is
 * out (`holdWrites: false` for a request whose answer needs its D1 write, such as a registration;
 * KV writes are held regardless).
 */
export async function measure(path: string, init?: RequestInit, o = { holdWrites: true }): Promise<Measured> {
  let open = () => {};
  recorder.calls = [];
  recorder.held = [];
  recorder.holdD1Writes = o.holdWrites;
  recorder.gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const ctx = createExecutionContext();
  let response: Response;
  let calls: BindingCall[] = [];
  try {
    const answered = app.fetch(new Request(`${ORIGIN}${path}`, init), countingEnv, ctx);
    const stuck = new Promise<never>((_, reject) =>
      setTimeout(
        () =>
          reject(
            new Error(
              `no response while writes were held: ${recorder.held.map((c) => c.sql ?? `${c.binding} ${c.kind}`).join(" | ")}`,
            ),
          ),
        3000,
      ),
    );
    response = await Promise.race([answered, stuck]);
  } finally {
    calls = [...recorder.calls];
    recorder.gate = null;
    open();
  }
  await waitOnExecutionContext(ctx);
  // Held writes, and what the waitUntil work did after the gate opened (a batched write waits out its window).
  return { response, calls, deferred: [...recorder.held, ...recorder.calls.slice(calls.length)] };
}

/** Every binding call made while `work` runs (requests sent with `send`, their waitUntil work included). */
export async function callsDuring(work: () => Promise<unknown>): Promise<BindingCall[]> {
  recorder.calls = [];
  recorder.gate = null;
  recorder.holdD1Writes = false;
  await work();
  return [...recorder.calls];
}

/** The id of a user's UserGrants object, as the calls record it. */
export const objectIdOf = (userId: string) => env.USER_GRANTS.idFromName(userId).toString();
