/**
 * For the settings page tests: a signed-in person (session + CSRF cookies, as a browser sends them,
 * with our Origin) who GETs pages and posts forms, and readers of the returned markup that use
 * workerd's own HTML parser (HTMLRewriter), never regular expressions.
 */
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { randomToken } from "../src/tokens/secrets";
import { call, ORIGIN } from "./helpers";
import { sessionCookie } from "./oauth-helpers";

export type Fields = [string, string][] | Record<string, string>;

export interface Person {
  csrf: string;
  /** The Cookie header this browser sends (session and CSRF cookies). */
  cookie: string;
  get(path: string): Promise<Response>;
  /** Posts the form with the right CSRF token unless `csrf` says otherwise (null: none at all). */
  post(path: string, fields: Fields, options?: { csrf?: string | null; origin?: string }): Promise<Response>;
}

/** A seeded user's browser: session cookie, CSRF cookie (43 base64url characters). */
export async function signedIn(userId: string): Promise<Person> {
  const csrf = randomToken(32);
  const cookie = `${await sessionCookie(userId)}; eoidc_csrf=${csrf}`;
  return {
    csrf,
    cookie,
    get: (path) => call(path, { headers: { Cookie: cookie }, redirect: "manual" }),
    post: (path, fields, options = {}) => {
      const body = new URLSearchParams(Array.isArray(fields) ? fields : Object.entries(fields));
      if (options.csrf !== null) body.append("csrf", options.csrf ?? csrf);
      return call(path, {
        method: "POST",
        headers: {
          Cookie: cookie,
          Origin: options.origin ?? ORIGIN,
          "Content-Type": "application/x-www-form-urlencoded",
        },
        body,
        redirect: "manual",
      });
    },
  };
}

/** HTMLRewriter hands attribute values over raw: decode the entities hono/jsx writes. */
const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
const decode = (value: string) => value.replace(/&(amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e] ?? e);

/** Attributes of every element matching `selector`, in document order. */
export async function elements(html: string, selector: string): Promise<Record<string, string>[]> {
  const found: Record<string, string>[] = [];
  await new HTMLRewriter()
    .on(selector, {
      element: (e) => void found.push(Object.fromEntries([...e.attributes].map(([n, v]) => [n, decode(v ?? "")]))),
    })
    .transform(new Response(html))
    .text();
  return found;
}

/** Text inside the elements matching `selector`, entities decoded. */
export async function textOf(html: string, selector: string): Promise<string> {
  let text = "";
  await new HTMLRewriter()
    .on(selector, {
      text: (t) => {
        text += t.text;
      },
    })
    .transform(new Response(html))
    .text();
  return decode(text);
}

/** An HTML page with the page security headers, and its markup. */
export async function page(res: Response, status: number): Promise<string> {
  const html = await res.text();
  expect(res.status, (await textOf(html, "main")).slice(0, 600)).toBe(status);
  expect(res.headers.get("content-type")).toContain("text/html");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  expect(res.headers.get("access-control-allow-origin")).toBeNull();
  return html;
}

/** The value of the readonly field with this id (the client id or the secret on the credentials page). */
export async function fieldValue(html: string, id: string): Promise<string | undefined> {
  return (await elements(html, `input#${id}`))[0]?.value;
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`)}`;
}

/** POST /oauth/token with client_credentials and HTTP Basic (RFC 6749 §4.4, §2.3.1). */
export function clientCredentialsToken(clientId: string, secret: string, scope?: string): Promise<Response> {
  const body = new URLSearchParams({ grant_type: "client_credentials", ...(scope ? { scope } : {}) });
  return call("/oauth/token", {
    method: "POST",
    headers: { Authorization: basicAuth(clientId, secret), "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
}

export function userinfo(accessToken: string): Promise<Response> {
  return call("/oauth/userinfo", { headers: { Authorization: `Bearer ${accessToken}` } });
}

/** The client as stored, or null. */
export function storedClient(clientId: string) {
  return env.DB.prepare("SELECT * FROM clients WHERE id = ?").bind(clientId).first<Record<string, unknown>>();
}

export async function auditOf(clientId: string): Promise<{ kind: string; actor_user_id: string | null }[]> {
  const { results } = await env.DB.prepare(
    "SELECT kind, actor_user_id FROM audit_events WHERE client_id = ? ORDER BY id",
  )
    .bind(clientId)
    .all<{ kind: string; actor_user_id: string | null }>();
  return results;
}
