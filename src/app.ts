/** The route table, nothing else. */
import { Hono } from "hono";
import { settingsOf } from "./config";
import type { AppEnv } from "./http/context";
import { machineCors } from "./http/cors";
import { serveAuthorizationServerMetadata, serveJwks, serveOpenIdConfiguration } from "./http/discovery";
import { handleError } from "./http/errors";
import { wellKnownPaths } from "./oauth/metadata";

export const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  c.set("settings", settingsOf(c.env));
  await next();
});

// Every well-known form of each document (root, path-inserted, path-appended) is registered at
// startup from the configured issuer; the handler never looks at the Host header.
app.on(["GET", "OPTIONS"], "/.well-known/*", machineCors, async (c, next) => {
  const settings = c.get("settings");
  const path = new URL(c.req.url).pathname;
  if (wellKnownPaths(settings, "oauth-authorization-server").includes(path)) return serveAuthorizationServerMetadata(c);
  if (wellKnownPaths(settings, "openid-configuration").includes(path)) return serveOpenIdConfiguration(c);
  await next();
});
app.on(["GET", "OPTIONS"], "/:prefix{.+}/.well-known/*", machineCors, async (c, next) => {
  const settings = c.get("settings");
  const path = new URL(c.req.url).pathname;
  if (wellKnownPaths(settings, "oauth-authorization-server").includes(path)) return serveAuthorizationServerMetadata(c);
  if (wellKnownPaths(settings, "openid-configuration").includes(path)) return serveOpenIdConfiguration(c);
  await next();
});
app.on(["GET", "OPTIONS"], "/oauth/discovery/keys", machineCors, serveJwks);

app.notFound((c) => c.json({ error: "not_found", error_description: "no such endpoint" }, 404));
app.onError(handleError);
