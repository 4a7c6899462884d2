/**
 * Fixed-window counters in KV: open dynamic registration (README "Configuration":
 * REGISTRATION_LIMIT_PER_HOUR, 10 per hour per IP) and user-code entry at /device (per session and
 * per IP, RFC 8628 §5.1; the numbers are in limits.ts).
 *
 * Exact within one isolate (it also counts in memory), approximate across isolates: an isolate
 * writes its count back within about a second of a request (after the response, at most one write a
 * second per key, the rate KV accepts), and KV is eventually consistent, so requests that arrive in
 * several isolates or locations at once can each read the same count. An address may get somewhat
 * more than the limit in an hour that way; that is the accepted trade for not putting a Durable
 * Object on the registration path.
 */
import { sleep } from "../platform/shared-work";

const REGISTRATION_WINDOW_SECONDS = 3600;
/** KV refuses an expirationTtl under 60 s. */
const MIN_TTL_SECONDS = 60;

export type QuotaDecision = { allowed: true } | { allowed: false; retryAfter: number };

/**
 * Who is counted: an IPv4 address as it is; an IPv6 address by its /64 (what one subscriber
 * usually gets, so rotating within it does not reset the count). "unknown-ip" when there is no
 * address: every such request then shares one bucket, which fails towards strictness.
 */
export function rateLimitSubject(ip: string | undefined): string {
  const value = ip?.trim().toLowerCase().slice(0, 64);
  if (!value) return "unknown-ip";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (mapped) return mapped[1] as string;
  if (!value.includes(":") || !/^[0-9a-f:]+$/.test(value)) return value;
  const [head = "", tail, extra] = value.split("::");
  if (extra !== undefined) return value;
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  if (groups.length !== 8 || groups.some((g) => g.length === 0 || g.length > 4)) return value;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** KV takes about one write per second per key and refuses more: an isolate writes a key at most this often. */
const WRITE_INTERVAL_MS = 1000;
/** How long a request's background work keeps trying to get its count into KV (logged when it gives up). */
const WRITE_DEADLINE_MS = 10_000;
const MAX_COUNTERS = 10_000;

/**
 * This isolate's view of one window's counter. Plain values, never a promise shared between
 * requests: workerd cancels a request's continuations on a promise whose own request was
 * cancelled, so a chain of requests waiting on each other could hang on one client that went away.
 */
interface Counter {
  /** Every request this isolate counted in the window (refused ones too), and KV's count once read. */
  seen: number;
  /** The count KV should hold, as of this isolate's last allowed request. */
  due: number;
  /** The highest count this isolate has written to KV. */
  written: number;
  /** When this isolate last started a write of the key. */
  lastWriteAt: number;
  /** When the window ends (ms): the counter is dropped after it. */
  endsAt: number;
}

const counters = new Map<string, Counter>();

function counterOf(key: string, endsAt: number, now: number): Counter {
  const known = counters.get(key);
  if (known) return known;
  if (counters.size >= MAX_COUNTERS) {
    for (const [k, c] of counters) if (c.endsAt <= now) counters.delete(k);
    if (counters.size >= MAX_COUNTERS) counters.clear();
  }
  const counter: Counter = { seen: 0, due: 0, written: 0, lastWriteAt: 0, endsAt };
  counters.set(key, counter);
  return counter;
}

/** Where counts are kept: the KV namespace, and the request's waitUntil for the write-back. */
export interface CounterStore {
  kv: KVNamespace;
  defer: (work: Promise<unknown>) => void;
}

export interface Quota {
  /** Names the counter: `reg` (registration), `device-ip`, `device-session`. */
  name: string;
  subject: string;
  limit: number;
  windowSeconds: number;
}

/** Counts one registration of `subject` in the current hour (see consumeQuota). */
export function consumeRegistrationQuota(
  store: CounterStore,
  subject: string,
  limit: number,
  now = Date.now(),
): Promise<QuotaDecision> {
  return consumeQuota(store, { name: "reg", subject, limit, windowSeconds: REGISTRATION_WINDOW_SECONDS }, now);
}

/**
 * Counts one request of `quota.subject` in the current window and says whether it may proceed.
 * Every call counts, whatever happens to the request afterwards.
 *
 * The count is taken in the isolate first, synchronously, so a parallel burst within one isolate
 * cannot all see the same count (exact locally). KV's count (other isolates') is read on every
 * request; if KV cannot be read, the request is refused. The new count is written back after the
 * response (`store.defer`), at most once a second per key with the latest count: a burst from one
 * address costs KV one write a second, never more than KV accepts, and no request waits for a
 * write. Once over the limit nothing more is written (an attacker's flood costs reads only).
 */
export async function consumeQuota(store: CounterStore, quota: Quota, now = Date.now()): Promise<QuotaDecision> {
  const { name, subject, limit, windowSeconds } = quota;
  const nowSeconds = Math.floor(now / 1000);
  const window = Math.floor(nowSeconds / windowSeconds);
  const windowEnd = (window + 1) * windowSeconds;
  const refused: QuotaDecision = { allowed: false, retryAfter: windowEnd - nowSeconds };
  const key = `${name}:${subject}:${window}`;
  const counter = counterOf(key, windowEnd * 1000, now);
  const before = counter.seen++;
  if (before >= limit) return refused;
  let stored: number;
  try {
    stored = Number(await store.kv.get(key)) || 0;
  } catch (err) {
    console.warn(`rate limit: KV failed for ${key}:`, err);
    return { allowed: false, retryAfter: 1 };
  }
  counter.seen = Math.max(counter.seen, stored);
  if (stored >= limit) return refused;
  counter.due = Math.max(counter.due, before + 1, stored + 1);
  const ttlSeconds = Math.max(MIN_TTL_SECONDS, windowEnd - nowSeconds + 60);
  store.defer(writeBack(store.kv, key, counter, counter.due, ttlSeconds));
  return { allowed: true };
}

/**
 * Gets one request's count into KV, in that request's own waitUntil. The request that wakes first
 * in a second writes the latest count (every allowed request's so far); the others find theirs
 * written and stop. None relies on another's background work, which may be cut short with its
 * client: a count still unwritten a second after another request started a write is written by
 * its own request. A write KV refuses is tried again a second later.
 *
 * Not a platform/write-batch.ts WriteBatch: that inserts rows, and a row retried at once is
 * harmless; a count is the latest state of a key, and KV wants a second between writes of a key,
 * a retry included.
 */
async function writeBack(kv: KVNamespace, key: string, counter: Counter, value: number, ttlSeconds: number) {
  const deadline = Date.now() + WRITE_DEADLINE_MS;
  while (counter.written < value) {
    const wait = counter.lastWriteAt + WRITE_INTERVAL_MS - Date.now();
    if (wait > 0) {
      if (Date.now() + wait > deadline) {
        console.warn(`rate limit: gave up writing the count ${value} for ${key}`);
        return;
      }
      await sleep(wait);
      continue;
    }
    counter.lastWriteAt = Date.now();
    const latest = counter.due;
    try {
      await kv.put(key, String(latest), { expirationTtl: ttlSeconds });
      counter.written = Math.max(counter.written, latest);
    } catch (err) {
      console.warn(`rate limit: KV did not take the count for ${key}:`, err);
    }
  }
}
