/**
 * POST /oauth/register (RFC 7591 §3) and GET /oauth/register/:clientId (RFC 7592 §2.1).
 * CORS is applied in app.ts.
 */
import type { Context } from "hono";
import { MAX_BODY_BYTES } from "../limits";
import { parseJsonObject } from "../oauth/client-metadata";
import { OAuthError } from "../oauth/errors";
import { consumeRegistrationQuota, rateLimitSubject } from "../oauth/rate-limit";
import { readRegisteredClient, registerClient } from "../oauth/registration";
import { dbOf } from "../store/db";
import type { AppEnv } from "./context";
import { readBoundedText } from "./form";

/**
 * The caller's address. Cloudflare's edge always sets CF-Connecting-IP (a client cannot forge it
 * there), and so does `wrangler dev`; X-Forwarded-For is never trusted. Without the header every
 * caller shares the "unknown-ip" bucket.
 */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP")?.trim().slice(0, 64) || "unknown-ip";
}

export async function handleRegister(c: Context<AppEnv>): Promise<Response> {
  const settings = c.get("settings");
  const ip = clientIp(c);
  // Counted before anything else is looked at: malformed and refused requests count too.
  const quota = await consumeRegistrationQuota(
    c.env.RATE_LIMIT,
    rateLimitSubject(ip),
    settings.registrationLimitPerHour,
  );
  if (!quota.allowed) {
    throw new OAuthError("slow_down", "too many registration requests from this address; retry later", {
      status: 429,
      headers: { "Retry-After": String(quota.retryAfter) },
    });
  }
  // RFC 7591 §3.1: the request is a JSON document.
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
    throw new OAuthError("invalid_client_metadata", "the registration request must be application/json");
  }
  const body = parseJsonObject(await readBoundedText(c, MAX_BODY_BYTES), "invalid_client_metadata");
  const registered = await registerClient(dbOf(c.env.DB), settings, body, ip);
  return c.json(registered, 201, { "Cache-Control": "no-store", Pragma: "no-cache" });
}

export async function handleReadRegistration(c: Context<AppEnv>): Promise<Response> {
  const token = /^Bearer +(\S+) *$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const metadata = await readRegisteredClient(dbOf(c.env.DB), c.get("settings"), c.req.param("clientId") ?? "", token);
  return c.json(metadata, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
