/**
 * POST /oauth/register (RFC 7591 §3) and GET /oauth/register/:clientId (RFC 7592 §2.1).
 * CORS is applied in app.ts.
 */
import type { Context } from "hono";
import { parseJsonObject } from "../oauth/client-metadata";
import { OAuthError } from "../oauth/errors";
import { consumeRegistrationQuota, rateLimitSubject } from "../oauth/rate-limit";
import { readRegisteredClient, registerClient } from "../oauth/registration";
import { dbOf } from "../store/db";
import { type AppEnv, clientIp, countersOf, readJsonBody } from "./context";

export async function handleRegister(c: Context<AppEnv>): Promise<Response> {
  const settings = c.get("settings");
  const ip = clientIp(c);
  // Counted before anything else is looked at: malformed and refused requests count too.
  const quota = await consumeRegistrationQuota(
    countersOf(c),
    rateLimitSubject(ip ?? undefined),
    settings.registrationLimitPerHour,
  );
  if (!quota.allowed) {
    throw new OAuthError("slow_down", "too many registration requests from this address; retry later", {
      status: 429,
      headers: { "Retry-After": String(quota.retryAfter) },
    });
  }
  // RFC 7591 §3.1: the request is a JSON document.
  const body = parseJsonObject(await readJsonBody(c, "invalid_client_metadata"), "invalid_client_metadata");
  const registered = await registerClient(dbOf(c.env.DB), settings, body, ip ?? "unknown-ip");
  return c.json(registered, 201, { "Cache-Control": "no-store", Pragma: "no-cache" });
}

export async function handleReadRegistration(c: Context<AppEnv>): Promise<Response> {
  const token = /^Bearer +(\S+) *$/i.exec(c.req.header("Authorization") ?? "")?.[1];
  const metadata = await readRegisteredClient(dbOf(c.env.DB), c.get("settings"), c.req.param("clientId") ?? "", token);
  return c.json(metadata, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
