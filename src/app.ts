/** The route table, nothing else. */
import { Hono } from "hono";
import { settingsOf } from "./config";
import { adminApi } from "./http/admin-api";
import type { AppEnv } from "./http/context";
import { machineCors } from "./http/cors";
import { serveAuthorizationServerMetadata, serveJwks, serveOpenIdConfiguration } from "./http/discovery";
import { handleError } from "./http/errors";
import { wellKnownPaths } from "./oauth/metadata";
import { showHome } from "./http/home";
import { pageHeaders } from "./http/page-headers";
import { handleReadRegistration, handleRegister } from "./http/register";
import { signInRoutes } from "./http/signin";
import { serveStylesheet } from "./pages/style";

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

// Clients: dynamic registration (RFC 7591 §3), its RFC 7592 §2.1 read, and the admin JSON API.
app.on(["POST", "OPTIONS"], "/oauth/register", machineCors, handleRegister);
app.on(["GET", "OPTIONS"], "/oauth/register/:clientId", machineCors, handleReadRegistration);
app.route("/api/admin", adminApi);

// Sign-in, sign-out, home and the stylesheet (HTML pages: security headers, never CORS).
app.route("/", signInRoutes);
app.get("/", pageHeaders, showHome);
app.get("/assets/*", (c) => serveStylesheet(new URL(c.req.url).pathname));

app.notFound((c) => c.json({ error: "not_found", error_description: "no such endpoint" }, 404));
app.onError(handleError);
