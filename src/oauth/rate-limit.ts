/**
 * Fixed-window counters in KV: open dynamic registration (README "Configuration":
 * REGISTRATION_LIMIT_PER_HOUR, 10 per hour per IP) and user-code entry at /device (per session and
 * per IP, RFC 8628 §5.1; the numbers are in limits.ts).
 *
 * Exact within one isolate (it also counts in memory), approximate across isolates: KV is eventually
 * consistent, so requests that arrive in several locations at once can each read the same count
 * before any write lands. Across regions an address may get somewhat more than the limit in an hour;
 * that is the accepted trade for not putting a Durable Object on the registration path.
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

/**
 * This isolate's own count per subject and window, taken synchronously before any await, so a
 * parallel burst within one isolate cannot all read the same count from KV (exact locally; across
 * isolates and regions KV stays approximate). Plain values, never a shared promise: workerd cancels
 * a request's continuations on a promise whose own request was cancelled, so a chain of requests
 * waiting on each other could hang on one client that went away.
 */
const localCounts = new Map<string, { window: number; count: number }>();
const MAX_LOCAL_SUBJECTS = 10_000;

function countLocally(subject: string, window: number): number {
  const entry = localCounts.get(subject);
  const count = entry?.window === window ? entry.count : 0;
  if (!entry && localCounts.size >= MAX_LOCAL_SUBJECTS) {
    for (const [key, value] of localCounts) if (value.window !== window) localCounts.delete(key);
    if (localCounts.size >= MAX_LOCAL_SUBJECTS) localCounts.clear();
  }
  localCounts.set(subject, { window, count: count + 1 });
  return count;
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
  kv: KVNamespace,
  subject: string,
  limit: number,
  now = Date.now(),
): Promise<QuotaDecision> {
  return consumeQuota(kv, { name: "reg", subject, limit, windowSeconds: REGISTRATION_WINDOW_SECONDS }, now);
}

/**
 * Counts one request of `quota.subject` in the current window and says whether it may proceed.
 * Every call counts, whatever happens to the request afterwards. Once over the limit nothing more
 * is written (an attacker's flood costs reads only). If KV refuses the write (it allows about one
 * write per second per key) the request is refused too, so a burst cannot slip past an unrecorded
 * count.
 */
export async function consumeQuota(kv: KVNamespace, quota: Quota, now = Date.now()): Promise<QuotaDecision> {
  const { name, subject, limit, windowSeconds } = quota;
  const nowSeconds = Math.floor(now / 1000);
  const window = Math.floor(nowSeconds / windowSeconds);
  const untilWindowEnd = (window + 1) * windowSeconds - nowSeconds;
  const key = `${name}:${subject}:${window}`;
  const before = countLocally(`${name}:${subject}`, window);
  if (before >= limit) return { allowed: false, retryAfter: untilWindowEnd };
  try {
    const count = Math.max(Number(await kv.get(key)) || 0, before);
    if (count >= limit) return { allowed: false, retryAfter: untilWindowEnd };
    await kv.put(key, String(count + 1), { expirationTtl: Math.max(MIN_TTL_SECONDS, untilWindowEnd + 60) });
    return { allowed: true };
  } catch (err) {
    console.warn(`rate limit: KV failed for ${key}:`, err);
    return { allowed: false, retryAfter: 1 };
  }
}
