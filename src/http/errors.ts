/** The one Hono error handler: OAuthError → its RFC response; anything else → a bare server_error. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "../config";
import { OAuthError, renderOAuthError } from "../oauth/errors";
import { MissingSecretError } from "../tokens/secrets";
import type { AppEnv } from "./context";

export function handleError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof OAuthError) return renderOAuthError(err);
  if (err instanceof HTTPException) {
    // Hono's own refusals become OAuth-shaped errors with the same status.
    return renderOAuthError(
      new OAuthError("invalid_request", err.message || "request refused", { status: err.status }),
    );
  }
  if (err instanceof ConfigError || err instanceof MissingSecretError) {
    console.error(err.message);
    return renderOAuthError(new OAuthError("server_error", err.message, { status: 500 }));
  }
  // Never a stack trace in a response; the log keeps it.
  console.error(`unhandled error on ${c.req.method} ${new URL(c.req.url).pathname}:`, err);
  return renderOAuthError(new OAuthError("server_error", "internal error", { status: 500 }));
}
