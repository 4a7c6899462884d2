/**
 * CORS for the machine endpoints (browser and MCP clients); never for /oauth/authorize or pages.
 *
 * Any origin may call them (they authenticate clients and tokens, never cookies), so the policy is
 * fixed: `*`, no credentials. The headers go on the finished response. hono/cors sets them on a
 * placeholder response before the handler runs, which makes Hono copy the handler's response into a
 * third one afterwards; on /oauth/token that copying was a measurable share of a request's CPU.
 */
import type { MiddlewareHandler } from "hono";

const ALLOW_ORIGIN = "*";
/** Lets browser clients read the challenge of a 401, the wait of a 429 and the DPoP nonce (RFC 9449 §8). */
const EXPOSE_HEADERS = "WWW-Authenticate,Retry-After,DPoP-Nonce";

const PREFLIGHT_HEADERS = {
  "Access-Control-Allow-Origin": ALLOW_ORIGIN,
  "Access-Control-Expose-Headers": EXPOSE_HEADERS,
  "Access-Control-Allow-Methods": "GET,POST,OPTIONS",
  "Access-Control-Allow-Headers": "Authorization,Content-Type,DPoP,MCP-Protocol-Version",
  "Access-Control-Max-Age": "86400",
  Vary: "Access-Control-Request-Headers",
};

export const machineCors: MiddlewareHandler = async (c, next) => {
  // Every OPTIONS to a machine endpoint is a preflight: none of them has another use for it.
  if (c.req.method === "OPTIONS") return new Response(null, { status: 204, headers: PREFLIGHT_HEADERS });
  await next();
  // Every machine endpoint answers with a response it built (mutable headers), errors included.
  c.res.headers.set("Access-Control-Allow-Origin", ALLOW_ORIGIN);
  c.res.headers.set("Access-Control-Expose-Headers", EXPOSE_HEADERS);
};
