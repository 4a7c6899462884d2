/** POST /oauth/device_authorization (RFC 8628 §3.1–3.2): form in, JSON out, errors per RFC 6749 §5.2. */
import type { Context } from "hono";
import { authenticateClient, readClientCredentials } from "../oauth/client-auth";
import { clientResolver } from "../oauth/client-lookup";
import { startDeviceAuthorization } from "../oauth/device-authorization";
import type { AppEnv } from "./context";
import { readForm } from "./form";
import { grantContext } from "./token";

export async function handleDeviceAuthorization(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  const ctx = grantContext(c);
  // RFC 8628 §3.1: a confidential client authenticates as at the token endpoint (RFC 6749 §2.3).
  const client = await authenticateClient(
    ctx.db,
    ctx.settings,
    readClientCredentials(c.req.header("Authorization"), form),
    clientResolver(ctx.env, ctx.settings),
  );
  const body = await startDeviceAuthorization(ctx, client, form);
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
