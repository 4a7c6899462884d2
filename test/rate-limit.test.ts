/**
 * The KV counters behind the registration limit (README "Configuration", REGISTRATION_LIMIT_PER_HOUR)
 * and user-code entry (RFC 8628 §5.1), against the real local KV: counted in the isolate first, KV's
 * count read on every request, the count written back after the response at most once a second per
 * key (KV accepts about one write per second per key), and never lost.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CounterStore, consumeQuota, type Quota } from "../src/oauth/rate-limit";

interface Recorded {
  store: CounterStore;
  /** The KV writes, with when they were made. */
  puts: { key: string; value: string; at: number }[];
  reads: number;
  /** Each request's waitUntil work, in order. */
  work: Promise<unknown>[];
  /** Waits for the write-backs started so far. */
  settled: () => Promise<void>;
}

/**
 * The real KV, with its calls recorded. Failures KV or workerd can cause but this machine cannot
 * provoke: `refusePuts` writes refused first (as KV does over about one write a second per key),
 * `hangPuts` writes that never answer (their request's background work cut short).
 */
function recordedStore(o: { refusePuts?: number; hangPuts?: number; refuseReads?: boolean } = {}): Recorded {
  const puts: Recorded["puts"] = [];
  const work: Promise<unknown>[] = [];
  let refusePuts = o.refusePuts ?? 0;
  let hangPuts = o.hangPuts ?? 0;
  const recorded: Recorded = {
    puts,
    reads: 0,
    store: {
      kv: {
        get: (key: string) => {
          recorded.reads++;
          if (o.refuseReads) return Promise.reject(new Error("KV GET failed: 503"));
          return env.RATE_LIMIT.get(key);
        },
        put: (key: string, value: string, options?: KVNamespacePutOptions) => {
          puts.push({ key, value, at: Date.now() });
          if (refusePuts-- > 0) return Promise.reject(new Error("KV PUT failed: 429 Too Many Requests"));
          if (hangPuts-- > 0) return new Promise<void>(() => {});
          return env.RATE_LIMIT.put(key, value, options);
        },
      } as unknown as KVNamespace,
      defer: (promise) => work.push(promise),
    },
    work,
    settled: async () => {
      for (let done = 0; done < work.length; done++) await work[done];
    },
  };
  return recorded;
}

let subjects = 0;
const quotaFor = (limit: number): Quota => ({
  name: "test",
  subject: `subject-${++subjects}-${crypto.randomUUID()}`,
  limit,
  windowSeconds: 3600,
});
const keyOf = (quota: Quota) => `${quota.name}:${quota.subject}:${Math.floor(Date.now() / 1000 / quota.windowSeconds)}`;

describe("rate-limit counters in KV", () => {
  it("a burst from one address: each request counted, KV written at most once a second, the last count lands", async () => {
    const { store, puts, settled } = recordedStore();
    const quota = quotaFor(10);
    const decisions = await Promise.all(Array.from({ length: 6 }, () => consumeQuota(store, quota)));
    expect(decisions.every((d) => d.allowed)).toBe(true);
    await settled();
    // Six requests, at most two writes: the first at once, the rest together a second later.
    expect(puts.length).toBeGreaterThanOrEqual(1);
    expect(puts.length).toBeLessThanOrEqual(2);
    for (let i = 1; i < puts.length; i++) expect(puts[i]!.at - puts[i - 1]!.at).toBeGreaterThanOrEqual(1000);
    expect(await env.RATE_LIMIT.get(keyOf(quota))).toBe("6");
    // The isolate's own count holds between writes: four more are allowed, then the limit.
    const more = [];
    for (let i = 0; i < 5; i++) more.push(await consumeQuota(store, quota));
    expect(more.map((d) => d.allowed)).toEqual([true, true, true, true, false]);
    await settled();
    expect(await env.RATE_LIMIT.get(keyOf(quota))).toBe("10");
  });

  it("counts other isolates wrote to KV are honoured: the request over the limit is refused until the window ends", async () => {
    const { store, puts, settled } = recordedStore();
    const quota = quotaFor(10);
    await env.RATE_LIMIT.put(keyOf(quota), "10");
    const decision = await consumeQuota(store, quota);
    expect(decision.allowed).toBe(false);
    const untilWindowEnd = 3600 - (Math.floor(Date.now() / 1000) % 3600);
    expect(decision).toEqual({ allowed: false, retryAfter: untilWindowEnd });
    await settled();
    expect(puts).toEqual([]);
  });

  it("once over the limit nothing more is written: a flood costs reads only", async () => {
    const recorded = recordedStore();
    const quota = quotaFor(2);
    const decisions = [];
    for (let i = 0; i < 7; i++) decisions.push(await consumeQuota(recorded.store, quota));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, false, false, false, false]);
    await recorded.settled();
    expect(await env.RATE_LIMIT.get(keyOf(quota))).toBe("2");
    expect(recorded.puts.map((p) => p.value).at(-1)).toBe("2");
    // Refused in the isolate before KV is asked: only the two allowed requests read it.
    expect(recorded.reads).toBe(2);
  });

  it("a write KV refuses is tried again a second later; the request it counted was not refused for it", async () => {
    const { store, puts, settled } = recordedStore({ refusePuts: 1 });
    const quota = quotaFor(10);
    expect(await consumeQuota(store, quota)).toEqual({ allowed: true });
    await settled();
    expect(puts.map((p) => p.value)).toEqual(["1", "1"]);
    expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(await env.RATE_LIMIT.get(keyOf(quota))).toBe("1");
  });

  it("a count whose write was cut short with its request is written by the next request's own background work", async () => {
    const { store, puts, work } = recordedStore({ hangPuts: 1 });
    const quota = quotaFor(10);
    expect(await consumeQuota(store, quota)).toEqual({ allowed: true });
    expect(await consumeQuota(store, quota)).toEqual({ allowed: true });
    await work[1];
    expect(puts.map((p) => p.value)).toEqual(["1", "2"]);
    expect(puts[1]!.at - puts[0]!.at).toBeGreaterThanOrEqual(1000);
    expect(await env.RATE_LIMIT.get(keyOf(quota))).toBe("2");
  });

  it("when KV cannot be read the request is refused (fails closed), and nothing is written", async () => {
    const { store, puts, settled } = recordedStore({ refuseReads: true });
    expect(await consumeQuota(store, quotaFor(10))).toEqual({ allowed: false, retryAfter: 1 });
    await settled();
    expect(puts).toEqual([]);
  });
});
