/**
 * Authorization codes and refresh tokens: opaque to clients, prefixed so secret scanners spot them,
 * and carrying (sealed with AES-GCM under a server key) what routes them to their user's Durable
 * Object and family — so the token endpoint needs no lookup, while a random IV per token means no
 * two tokens of one user look alike and none exposes a stable user handle.
 */
import { base64url } from "jose";
import type { Settings } from "../config";
import { purposeKey, purposeMacKey, randomToken } from "./secrets";

export const CODE_PREFIX = "eoidc_ac_";
export const REFRESH_PREFIX = "eoidc_rt_";

export type GrantTokenKind = "code" | "refresh";

/**
 * RFC 7009 §2.1 / RFC 7662 §2.1: token_type_hint says where to look first, never where to look
 * only. Our refresh tokens are recognisable by their prefix, so that decides too.
 */
export function refreshTokenFirst(token: string, hint: string | undefined): boolean {
  return hint === "refresh_token" || token.startsWith(REFRESH_PREFIX);
}

export interface GrantRoute {
  userId: string;
  familyId: string;
  teamId: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ROUTE_INFO = "grant-token-route v1";
const SUCCESSOR_INFO = "refresh-successor v2";
/** Far above any real token; a cheap refusal of oversized input before any crypto. */
const MAX_TOKEN_LENGTH = 1024;

const prefixOf = (kind: GrantTokenKind) => (kind === "code" ? CODE_PREFIX : REFRESH_PREFIX);

export function mintGrantToken(settings: Settings, kind: GrantTokenKind, route: GrantRoute): Promise<string> {
  // The random part makes the token unguessable even to someone who knows the route.
  return packGrantToken(settings, kind, route, crypto.getRandomValues(new Uint8Array(12)), randomToken(32));
}

/**
 * A refresh token's successor, derived from the token it replaces: the same successor every time
 * that token is presented, so a retry inside the grace window gets what the first call issued
 * while the server keeps nothing but hashes. The IV and the random part come from one HMAC of the
 * predecessor under a server key: distinct predecessors never share an IV, and nobody without the
 * key can compute a successor.
 */
export async function successorGrantToken(settings: Settings, predecessor: string, route: GrantRoute): Promise<string> {
  const key = await purposeMacKey(settings, SUCCESSOR_INFO);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(predecessor)));
  return packGrantToken(settings, "refresh", route, mac.slice(0, 12), base64url.encode(mac.slice(12)));
}

async function packGrantToken(
  settings: Settings,
  kind: GrantTokenKind,
  route: GrantRoute,
  iv: Uint8Array,
  randomPart: string,
): Promise<string> {
  const key = await purposeKey(settings, ROUTE_INFO);
  const plaintext = encoder.encode(JSON.stringify([route.userId, route.familyId, route.teamId, randomPart]));
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(kind) }, key, plaintext),
  );
  const packed = new Uint8Array(iv.length + ct.length);
  packed.set(iv);
  packed.set(ct, iv.length);
  return prefixOf(kind) + base64url.encode(packed);
}

/** The route inside a token we minted, or null for anything else (forged, truncated, other kind). */
export async function readGrantToken(
  settings: Settings,
  kind: GrantTokenKind,
  token: string,
): Promise<GrantRoute | null> {
  const prefix = prefixOf(kind);
  if (token.length > MAX_TOKEN_LENGTH || !token.startsWith(prefix)) return null;
  let packed: Uint8Array;
  try {
    packed = base64url.decode(token.slice(prefix.length));
  } catch {
    return null;
  }
  if (packed.length < 12 + 16 + 1) return null;
  try {
    const key = await purposeKey(settings, ROUTE_INFO);
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: packed.slice(0, 12), additionalData: encoder.encode(kind) },
      key,
      packed.slice(12),
    );
    const parsed: unknown = JSON.parse(decoder.decode(pt));
    if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((p) => typeof p === "string")) return null;
    const [userId, familyId, teamId] = parsed as string[];
    return { userId: userId as string, familyId: familyId as string, teamId: teamId as string };
  } catch {
    return null;
  }
}
