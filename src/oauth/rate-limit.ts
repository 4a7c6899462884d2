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
/** Writes of one count KV refused before it is given up (logged; the isolate's own count still holds). */
const WRITE_ATTEMPTS = 3;
/** A write-back running this long is taken as dead (its request's background work was cut short). */
const STALE_WRITE_MS = 10_000;
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
  lastWriteAt: number;
  /** When the running write-back started; undefined when none runs. */
  writingSince?: number;
  /** When the window ends (ms): the counter is dropped after it. */
  endsAt: number;
}

const counters = new Map<string, Counter>();

function counterOf(key: string, endsAt: number, now: number): Counter {
  const known = counters.get(key);
  if (known) return known;
  if (counters.size >= MAX_COUNTERS) {
    for (const [k, c] of counters) if (c.endsAt <= now && c.writingSince === undefined) counters.delete(k);
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
  writeBack(store, key, counter, windowEnd - nowSeconds + 60);
  return { allowed: true };
}

/** Starts the counter's write-back unless one is running (it writes the latest count when it runs). */
function writeBack(store: CounterStore, key: string, counter: Counter, ttlSeconds: number): void {
  const now = Date.now();
  if (counter.writingSince !== undefined && now - counter.writingSince < STALE_WRITE_MS) return;
  counter.writingSince = now;
  store.defer(writeDue(store.kv, key, counter, Math.max(MIN_TTL_SECONDS, ttlSeconds)));
}

async function writeDue(kv: KVNamespace, key: string, counter: Counter, ttlSeconds: number): Promise<void> {
  const since = counter.writingSince;
  try {
    for (let refusals = 0; counter.due > counter.written && refusals < WRITE_ATTEMPTS; ) {
      const wait = counter.lastWriteAt + WRITE_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const value = counter.due;
      counter.lastWriteAt = Date.now();
      try {
        await kv.put(key, String(value), { expirationTtl: ttlSeconds });
        counter.written = Math.max(counter.written, value);
      } catch (err) {
        refusals++;
        console.warn(`rate limit: KV did not take the count for ${key}:`, err);
      }
    }
  } finally {
    if (counter.writingSince === since) counter.writingSince = undefined;
  }
}
