/**
 * The page that shows a client secret once (after create or reset). Its CSP adds a nonce for the
 * copy-button script and nothing else; the page is no-store like every page, so the secret is in
 * this one response and nowhere else.
 */
import { ENDPOINT_PATHS, endpointUrl } from "../../oauth/metadata";
import { renderPage } from "../../pages/render";
import { contentSecurityPolicy } from "../../pages/security-headers";
import { AppCredentialsPage } from "../../pages/settings/app-credentials";
import { randomToken } from "../../tokens/secrets";
import type { SettingsContext } from "./access";

export interface IssuedCredentials {
  heading: string;
  /** The app as the admin use cases show it (appView). */
  app: Record<string, unknown>;
  clientSecret?: string;
}

export function renderCredentials(c: SettingsContext, issued: IssuedCredentials): Response {
  const settings = c.get("settings");
  const { app } = issued;
  const clientId = String(app.client_id);
  const nonce = randomToken(16);
  const page = AppCredentialsPage({
    heading: issued.heading,
    appName: String(app.name),
    clientId,
    clientSecret: issued.clientSecret,
    nonce,
    // What a developer needs to configure the app, in the names RFC 7591 §2 and RFC 8414 use.
    download: {
      issuer: settings.issuer,
      token_endpoint: endpointUrl(settings, ENDPOINT_PATHS.token),
      client_id: clientId,
      ...(issued.clientSecret ? { client_secret: issued.clientSecret } : {}),
      client_name: app.name,
      token_endpoint_auth_method: app.token_endpoint_auth_method,
      grant_types: app.grant_types,
      scope: app.scope,
      ...(Array.isArray(app.redirect_uris) && app.redirect_uris.length > 0 ? { redirect_uris: app.redirect_uris } : {}),
    },
  });
  const response = renderPage(c, page);
  response.headers.set("Content-Security-Policy", `${contentSecurityPolicy()}; script-src 'nonce-${nonce}'`);
  return response;
}
