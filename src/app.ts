/**
 * The route table: every endpoint, with its CORS or page-header middleware. Before any route, the
 * settings are parsed (once per isolate) and put on the context; errors go to one handler.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { settingsOf } from "./config";
import { adminApi } from "./http/admin-api";
import { handleAuthorize, handleConsentDecision } from "./http/authorize";
import type { AppEnv } from "./http/context";
import { machineCors } from "./http/cors";
import { deviceRoutes } from "./http/device";
import { handleDeviceAuthorization } from "./http/device-authorization";
import { serveAuthorizationServerMetadata, serveJwks, serveOpenIdConfiguration } from "./http/discovery";
import { handleEndSession } from "./http/end-session";
import { handleError } from "./http/errors";
import { showHome } from "./http/home";
import { handleIntrospect } from "./http/introspect";
import { pageHeaders } from "./http/page-headers";
import { handleReadRegistration, handleRegister } from "./http/register";
import { handleRevoke } from "./http/revoke";
import { settingsRoutes } from "./http/settings/routes";
import { signInRoutes } from "./http/signin";
import { handleToken } from "./http/token";
import { handleUserinfo } from "./http/userinfo";
import { wellKnownPaths } from "./oauth/metadata";
import { serveStylesheet } from "./pages/style";

export const app = new Hono<AppEnv>();

app.use("*", async (c, next) => {
  c.set("settings", settingsOf(c.env));
  await next();
});

// Metadata documents at every well-known form (root, path-inserted, path-appended, RFC 8414 §3):
// the paths come from the configured issuer, never from the Host header.
const wellKnown: MiddlewareHandler<AppEnv> = async (c, next) => {
  const settings = c.get("settings");
  const path = new URL(c.req.url).pathname;
  if (wellKnownPaths(settings, "oauth-authorization-server").includes(path)) return serveAuthorizationServerMetadata(c);
  if (wellKnownPaths(settings, "openid-configuration").includes(path)) return serveOpenIdConfiguration(c);
  await next();
};
app.on(["GET", "OPTIONS"], ["/.well-known/*", "/:prefix{.+}/.well-known/*"], machineCors, wellKnown);
app.on(["GET", "OPTIONS"], "/oauth/discovery/keys", machineCors, serveJwks);

// Clients: dynamic registration (RFC 7591 §3), its RFC 7592 §2.1 read, and the admin JSON API.
app.on(["POST", "OPTIONS"], "/oauth/register", machineCors, handleRegister);
app.on(["GET", "OPTIONS"], "/oauth/register/:clientId", machineCors, handleReadRegistration);
app.route("/api/admin", adminApi);

// Tokens and authorization (RFC 6749 §3.1, §3.2). /oauth/authorize never answers CORS.
app.on(["POST", "OPTIONS"], "/oauth/token", machineCors, handleToken);
app.on(["GET", "POST"], "/oauth/authorize", handleAuthorize);
app.post("/oauth/authorize/decision", handleConsentDecision);

// Device authorization grant (RFC 8628): the device's request, and the page where a person answers it.
app.on(["POST", "OPTIONS"], "/oauth/device_authorization", machineCors, handleDeviceAuthorization);
app.route("/", deviceRoutes);

// Token status (RFC 7009, RFC 7662, OIDC Core §5.3): revocation is honoured at once everywhere.
app.on(["POST", "OPTIONS"], "/oauth/revoke", machineCors, handleRevoke);
app.on(["POST", "OPTIONS"], "/oauth/introspect", machineCors, handleIntrospect);
app.on(["GET", "POST", "OPTIONS"], "/oauth/userinfo", machineCors, handleUserinfo);

// OpenID Connect RP-Initiated Logout 1.0 (an HTML page like /oauth/authorize: never CORS).
app.on(["GET", "POST"], "/oauth/end_session", pageHeaders, handleEndSession);

// Sign-in, sign-out, home and the stylesheet (HTML pages: security headers, never CORS).
app.route("/", signInRoutes);
app.get("/", pageHeaders, showHome);
// Settings pages: OAuth applications and audit log (team admins), connected apps (everyone signed in).
app.route("/settings", settingsRoutes);
app.get("/assets/*", (c) => serveStylesheet(new URL(c.req.url).pathname));

app.notFound((c) => c.json({ error: "not_found", error_description: "no such endpoint" }, 404));
app.onError(handleError);
