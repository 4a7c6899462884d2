/** GET metadata documents (every well-known form) and the JWKS. CORS is applied in app.ts. */
import type { Context } from "hono";
import { authorizationServerMetadata, openIdConfiguration } from "../oauth/metadata";
import { dbOf } from "../store/db";
import { keysetOf } from "../tokens/signing-keys";
import type { AppEnv } from "./context";

const DOCUMENT_CACHE = "public, max-age=300";

export function serveAuthorizationServerMetadata(c: Context<AppEnv>) {
  c.header("Cache-Control", DOCUMENT_CACHE);
  return c.json(authorizationServerMetadata(c.get("settings")));
}

export function serveOpenIdConfiguration(c: Context<AppEnv>) {
  c.header("Cache-Control", DOCUMENT_CACHE);
  return c.json(openIdConfiguration(c.get("settings")));
}

export async function serveJwks(c: Context<AppEnv>) {
  const keyset = await keysetOf(dbOf(c.env.DB), c.get("settings"));
  // Short enough that relying parties pick up a rotated key well before the old one is unpublished.
  c.header("Cache-Control", "public, max-age=300, stale-while-revalidate=60");
  c.header("Content-Type", "application/jwk-set+json");
  return c.body(JSON.stringify(keyset.jwks));
}
