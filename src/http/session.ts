/**
 * The browser session (an opaque HttpOnly cookie backed by a D1 row, so sign-out works) and CSRF
 * protection for every form (a double-submit token: a random cookie echoed in a hidden field, plus
 * an Origin check). SameSite=Lax keeps both cookies off cross-site POSTs.
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { dbOf } from "../store/db";
import { deleteSession, findLiveSession, findLiveSessionForClient, insertSession } from "../store/sessions";
import type { MembershipWithTeam, UserRow } from "../store/users";
import { randomToken, sha256, timingSafeEqual } from "../tokens/secrets";
import type { AppEnv } from "./context";

export interface BrowserSession {
  idHash: string;
  user: UserRow;
  /** Unix seconds of the sign-in (OIDC auth_time). */
  authTime: number;
}

/** `__Host-` needs Secure, which a loopback http issuer cannot have. */
function cookieNames<E extends AppEnv>(c: Context<E>) {
  const secure = c.get("settings").issuerUrl.protocol === "https:";
  return {
    secure,
    session: secure ? "__Host-eoidc_session" : "eoidc_session",
    csrf: secure ? "__Host-eoidc_csrf" : "eoidc_csrf",
  };
}

export async function startSession<E extends AppEnv>(c: Context<E>, userId: string): Promise<BrowserSession> {
  const { secure, session } = cookieNames(c);
  const settings = c.get("settings");
  const value = randomToken(32);
  const idHash = await sha256(value);
  const now = Date.now();
  await insertSession(dbOf(c.env.DB), {
    idHash,
    userId,
    authTime: Math.floor(now / 1000),
    createdAt: now,
    expiresAt: now + settings.sessionTtl * 1000,
  });
  setCookie(c, session, value, {
    path: "/",
    httpOnly: true,
    secure,
    sameSite: "Lax",
    maxAge: settings.sessionTtl,
  });
  const found = await currentSession(c, value);
  if (!found) throw new Error("session vanished right after it was created");
  return found;
}

/** The signed-in user of this request, or null. */
export async function currentSession<E extends AppEnv>(
  c: Context<E>,
  cookieValue?: string,
): Promise<BrowserSession | null> {
  const idHash = await sessionIdHash(c, cookieValue);
  if (!idHash) return null;
  return liveSession(idHash, await findLiveSession(dbOf(c.env.DB), idHash, Date.now()));
}

/**
 * /oauth/authorize: the session, the user's memberships and their consent to one client, in one D1
 * round trip (the signed-in, consented path then makes only the UserGrants call that issues the code).
 */
export async function currentSessionForClient<E extends AppEnv>(
  c: Context<E>,
  clientId: string,
): Promise<{ session: BrowserSession; memberships: MembershipWithTeam[]; consented: Set<string> } | null> {
  const idHash = await sessionIdHash(c);
  if (!idHash) return null;
  const found = await findLiveSessionForClient(dbOf(c.env.DB), idHash, Date.now(), clientId);
  const session = liveSession(idHash, found);
  return session && found ? { session, memberships: found.memberships, consented: found.consented } : null;
}

async function sessionIdHash<E extends AppEnv>(c: Context<E>, cookieValue?: string): Promise<string | null> {
  const value = cookieValue ?? getCookie(c, cookieNames(c).session);
  if (!value || value.length > 100) return null;
  return sha256(value);
}

function liveSession(
  idHash: string,
  row: { session: { createdAt: number; authTime: number }; user: UserRow } | undefined,
): BrowserSession | null {
  if (!row) return null;
  // "Sign out everywhere" moves the user's revoked_before past older sessions.
  if (row.user.revokedBefore > row.session.createdAt) return null;
  return { idHash, user: row.user, authTime: row.session.authTime };
}

export async function endSession<E extends AppEnv>(c: Context<E>): Promise<void> {
  const { session, secure } = cookieNames(c);
  const value = getCookie(c, session);
  if (value && value.length <= 100) await deleteSession(dbOf(c.env.DB), await sha256(value));
  deleteCookie(c, session, { path: "/", secure });
}

/** The CSRF token to put in a form's hidden `csrf` field (sets the cookie on first use). */
export function csrfToken<E extends AppEnv>(c: Context<E>): string {
  const { csrf, secure } = cookieNames(c);
  let value = getCookie(c, csrf);
  if (!value || !/^[\w-]{43}$/.test(value)) {
    value = randomToken(32);
    setCookie(c, csrf, value, { path: "/", httpOnly: true, secure, sameSite: "Lax" });
  }
  return value;
}

/**
 * True when a state-changing form post carries the CSRF cookie's value and, if the browser sent an
 * Origin, comes from our own origin.
 */
export function isCsrfValid<E extends AppEnv>(c: Context<E>, submitted: unknown): boolean {
  const origin = c.req.header("Origin");
  if (origin && origin !== c.get("settings").issuerUrl.origin) return false;
  const cookie = getCookie(c, cookieNames(c).csrf);
  return typeof submitted === "string" && !!cookie && timingSafeEqual(cookie, submitted);
}
