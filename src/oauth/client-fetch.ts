/**
 * Fetching what a client publishes — its Client ID Metadata Document, its jwks_uri — under one set
 * of SSRF rules: which URLs may be fetched, and how the fetch is bounded.
 *
 * SSRF: the URL is checked before any traffic is sent. Literal IP addresses must be public unicast;
 * host names that only resolve inside a network (localhost, *.local, *.internal, single labels…)
 * are refused. A Worker cannot resolve DNS itself, so a public name that resolves to a private
 * address (DNS rebinding) is not caught here: on Cloudflare the backstop is the platform, whose
 * fetch() goes out through Cloudflare's edge to the public Internet and cannot reach the operator's
 * private networks (those need an explicit Tunnel or VPC binding, which this worker does not have).
 * Redirects are never followed, so a public URL cannot bounce the fetch elsewhere. Only the https
 * port is fetched, and every fetch failure (status, redirect, timeout, size, type) looks the same to
 * the caller — "… could not be fetched" — so the fetch is no oracle for ports or services; the
 * detailed reason goes to the log. Failures are remembered for MIN_CACHE_SECONDS (RememberedFailures)
 * so that a caller cannot make the worker fetch a failing URL again and again.
 */

import { isLoopbackHost } from "../config";
import { MAX_CLIENT_ID_LENGTH, MAX_METADATA_DOCUMENT_BYTES } from "../limits";
import { readAtMost } from "../platform/bounded-read";
import { decodeUtf8 } from "../platform/utf8";

export const FETCH_TIMEOUT_MS = 3000;
/** Cache lifetime bounds: never refetch more often than the floor, never trust longer than the ceiling. */
export const MIN_CACHE_SECONDS = 60;
export const MAX_CACHE_SECONDS = 24 * 3600;

/** Why a client-published document (metadata document, JWKS) cannot be used; safe to show and to log. */
export class MetadataDocumentError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "MetadataDocumentError";
  }
}

function refuse(reason: string): never {
  throw new MetadataDocumentError(reason);
}

/** The one text a caller sees for any failed fetch of `noun`. */
export function fetchFailedText(noun: string): string {
  return `${noun} could not be fetched`;
}

/** A failed fetch: the reason is logged, the caller sees fetchFailedText(noun). */
function fetchFailed(url: URL, noun: string, reason: string): never {
  console.warn(`${noun} ${url.href}: ${reason}`);
  throw new MetadataDocumentError(fetchFailedText(noun));
}

/**
 * Fetches (or uses of what they returned) that failed, remembered per key in this isolate for
 * MIN_CACHE_SECONDS, so anonymous callers naming a failing URL cannot make the worker fetch it
 * again and again. Bounded: past `max` entries the oldest is forgotten.
 */
export class RememberedFailures {
  private readonly failures = new Map<string, { until: number; problem: string }>();
  constructor(private readonly max = 10_000) {}

  /** The remembered problem of `key`, while it is remembered. */
  problem(key: string, now: number): string | undefined {
    const failed = this.failures.get(key);
    return failed && failed.until > now ? failed.problem : undefined;
  }

  remember(key: string, problem: string, now: number): void {
    // Map keeps insertion order: dropping the first key forgets the oldest failure.
    if (this.failures.size >= this.max) this.failures.delete(this.failures.keys().next().value as string);
    this.failures.set(key, { until: now + MIN_CACHE_SECONDS * 1000, problem });
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

// ---- which addresses may be fetched -----------------------------------------------------------------

/** IPv4 special-purpose blocks (IANA registry, RFC 6890 and successors): never fetched. */
const IPV4_SPECIAL: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private (RFC 1918)
  ["100.64.0.0", 10], // CGNAT shared space (RFC 6598)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local, cloud metadata endpoints
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast
];

function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function ipv4IsSpecial(ip: string): boolean {
  const n = ipv4ToNumber(ip);
  return IPV4_SPECIAL.some(
    ([base, bits]) => Math.floor(n / 2 ** (32 - bits)) === Math.floor(ipv4ToNumber(base) / 2 ** (32 - bits)),
  );
}

/** The eight 16-bit groups of a WHATWG-serialized IPv6 host (`[2001:db8::1]`), or undefined. */
function ipv6Groups(host: string): number[] | undefined {
  const inner = host.slice(1, -1);
  // WHATWG prints IPv4-mapped and -embedded forms in hex, so a dotted tail never reaches here.
  if (!/^[0-9a-f:]+$/.test(inner)) return undefined;
  const [head = "", tail] = inner.split("::");
  const parse = (s: string) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 ? groups : undefined;
}

/**
 * Only global unicast (2000::/3) is fetched, minus its special blocks: 2001::/23 (IETF protocol
 * assignments, incl. Teredo), 2001:db8::/32 (documentation), 2002::/16 (6to4, which embeds an IPv4
 * address), 3fff::/20 (documentation). Everything else — ::1, ::, IPv4-mapped ::ffff:0:0/96, NAT64
 * 64:ff9b::/96, unique-local fc00::/7, link-local fe80::/10, multicast ff00::/8 — is refused.
 */
function ipv6IsPublic(groups: number[]): boolean {
  const [a = 0, b = 0] = groups;
  if (a < 0x2000 || a > 0x3fff) return false;
  if (a === 0x2001 && (b < 0x0200 || b === 0x0db8)) return false;
  if (a === 0x2002) return false;
  if (a === 0x3fff && b < 0x1000) return false;
  return true;
}

/** Names that resolve only inside a network (RFC 6761, RFC 6762, RFC 8375, ICANN's .internal). */
const PRIVATE_SUFFIXES = ["localhost", "local", "internal", "localdomain", "home.arpa", "lan", "intranet", "corp"];
/** Names that never resolve publicly (RFC 6761 §6.2, §6.4; RFC 7686). */
const NON_PUBLIC_SUFFIXES = ["test", "invalid", "onion", "arpa"];

/** Why this host must not be fetched, or undefined when it may be. */
function hostProblem(hostname: string, allowLoopback: boolean): string | undefined {
  if (allowLoopback && isLoopbackHost(hostname)) return undefined;
  if (hostname.startsWith("[")) {
    const groups = ipv6Groups(hostname);
    return groups && ipv6IsPublic(groups) ? undefined : "is not a public IPv6 address";
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(hostname)) {
    return ipv4IsSpecial(hostname) ? "is a private, loopback or special-use IPv4 address" : undefined;
  }
  const name = hostname.replace(/\.$/, "");
  if (!name.includes(".") && name !== "localhost") return "is a single-label name that only resolves inside a network";
  for (const suffix of [...PRIVATE_SUFFIXES, ...NON_PUBLIC_SUFFIXES]) {
    if (name === suffix || name.endsWith(`.${suffix}`)) return `is a .${suffix} name, not a public one`;
  }
  return undefined;
}

/**
 * An https URL on a public host that may be fetched, or MetadataDocumentError naming `what` (e.g.
 * "the client_id URL", "the jwks_uri"). The rules of draft §3 — https, a path, no fragment, no
 * userinfo, canonical form without dot segments — plus our SSRF rules. The URL must already be in
 * canonical form, so what is compared or stored is what is fetched. `allowLoopback` (tests only,
 * see config.ts) lets http and https reach 127.0.0.1, [::1], localhost.
 */
export function checkFetchableUrl(value: string, what: string, options: { allowLoopback: boolean }): URL {
  if (value.length > MAX_CLIENT_ID_LENGTH) refuse(`${what} is longer than ${MAX_CLIENT_ID_LENGTH}`);
  if (!/^[\x21-\x7e]+$/.test(value)) refuse(`${what} must be printable ASCII`);
  if (value.includes("#")) refuse(`${what} must not have a fragment`);
  const url = URL.parse(value);
  if (!url) refuse(`${what} is not a URL`);
  const loopbackTest = options.allowLoopback && isLoopbackHost(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopbackTest)) refuse(`${what} must be https`);
  if (url.username || url.password) refuse(`${what} must not contain userinfo`);
  // https on its own port only: a client cannot point the fetch at another service of a host.
  if (url.port !== "" && !loopbackTest) refuse(`${what} must not name a port`);
  if (url.pathname === "/") refuse(`${what} must have a path (e.g. https://app.example/client.json)`);
  if (url.href !== value || /\/\.\.?(\/|$)/.test(url.pathname)) {
    refuse(`${what} must be in canonical form without dot segments`);
  }
  const problem = hostProblem(url.hostname, options.allowLoopback);
  if (problem) refuse(`the host of ${what} ${problem}`);
  return url;
}

// ---- the fetch ------------------------------------------------------------------------------------

/** Seconds to trust a document: Cache-Control max-age clamped to [MIN, MAX]; no-store/no-cache or none → MIN. */
export function cacheLifetimeSeconds(cacheControl: string | null): number {
  const directives = (cacheControl ?? "").toLowerCase();
  if (/(^|[,\s])(no-store|no-cache)([,\s=]|$)/.test(directives)) return MIN_CACHE_SECONDS;
  const maxAge = /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/.exec(directives);
  const seconds = maxAge ? Number(maxAge[1]) : 0;
  return Math.min(MAX_CACHE_SECONDS, Math.max(MIN_CACHE_SECONDS, seconds));
}

async function readCapped(url: URL, response: Response, noun: string): Promise<Uint8Array> {
  const declared = response.headers.get("Content-Length");
  if (declared !== null && Number(declared) > MAX_METADATA_DOCUMENT_BYTES) {
    await response.body?.cancel();
    fetchFailed(url, noun, `larger than ${MAX_METADATA_DOCUMENT_BYTES} bytes (declared)`);
  }
  const bytes = await readAtMost(response, MAX_METADATA_DOCUMENT_BYTES);
  // Reading stops at the cap: the rest of an oversized (or endless) body is never downloaded.
  if (bytes === "too_large") fetchFailed(url, noun, `larger than ${MAX_METADATA_DOCUMENT_BYTES} bytes`);
  return bytes;
}

export interface FetchedDocument {
  document: Record<string, unknown>;
  maxAgeSeconds: number;
}

/**
 * The one SSRF-bounded fetch of a JSON object published by a client (its metadata document, its
 * jwks_uri): no redirects, 3 s for the whole exchange, at most MAX_METADATA_DOCUMENT_BYTES, JSON only. `noun` names the
 * document in errors. Call it only with a URL checkFetchableUrl returned.
 */
export async function fetchPublicJson(url: URL, noun: string): Promise<FetchedDocument> {
  let response: Response;
  let bytes: Uint8Array;
  try {
    response = await fetch(url, {
      method: "GET",
      headers: { Accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      fetchFailed(url, noun, `answered HTTP ${response.status} (redirects are not followed)`);
    }
    const type = response.headers.get("Content-Type") ?? "";
    if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type)) {
      await response.body?.cancel();
      fetchFailed(url, noun, `served as ${JSON.stringify(type.slice(0, 60))}, not application/json`);
    }
    bytes = await readCapped(url, response, noun);
  } catch (e) {
    if (e instanceof MetadataDocumentError) throw e;
    const timedOut = e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError");
    fetchFailed(
      url,
      noun,
      timedOut ? `no answer within ${FETCH_TIMEOUT_MS} ms` : `fetch failed: ${String(e).slice(0, 200)}`,
    );
  }
  let document: unknown;
  try {
    document = JSON.parse(decodeUtf8(bytes) ?? "");
  } catch {
    refuse(`${noun} is not valid JSON`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    refuse(`${noun} is not a JSON object`);
  }
  return {
    document: document as Record<string, unknown>,
    maxAgeSeconds: cacheLifetimeSeconds(response.headers.get("Cache-Control")),
  };
}
