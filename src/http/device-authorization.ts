/** POST /oauth/device_authorization (RFC 8628 §3.1–3.2): form in, JSON out, errors per RFC 6749 §5.2. */
import type { Context } from "hono";
import { startDeviceAuthorization } from "../oauth/device-authorization";
import { type AppEnv, authenticatedClient, readForm, useCaseContext } from "./context";

export async function handleDeviceAuthorization(c: Context<AppEnv>): Promise<Response> {
  const form = await readForm(c);
  // RFC 8628 §3.1: a confidential client authenticates as at the token endpoint (RFC 6749 §2.3).
  const client = await authenticatedClient(c, form);
  const body = await startDeviceAuthorization(useCaseContext(c), client, form);
  return c.json(body, 200, { "Cache-Control": "no-store", Pragma: "no-cache" });
}
