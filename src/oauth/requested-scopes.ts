/**
 * Which scopes a request of a client asks for (RFC 6749 §3.3), for the authorization endpoint and
 * the device authorization endpoint alike: none named → everything the client registered; meta
 * scopes are shorthand for what the client registered; every other scope, OIDC scopes included,
 * must be registered (the app's scope is its ceiling, README "Scopes").
 */
import type { ClientRow } from "../store/clients";
import { OAuthError } from "./errors";
import { expandMetaScopes, isMetaScope, parseRequestedScopes, sortScopes } from "./scopes";

export function requestedClientScopes(client: Pick<ClientRow, "scopes">, scopeParam: string | undefined): string[] {
  const parsed = parseRequestedScopes(scopeParam);
  const registered = new Set(client.scopes);
  const requested = parsed.length === 0 ? [...client.scopes] : expandMetaScopes(parsed);
  const scopes: string[] = [];
  for (const s of requested) {
    if (registered.has(s)) scopes.push(s);
    else if (!parsed.some(isMetaScope) || parsed.includes(s)) {
      throw new OAuthError("invalid_scope", `scope ${s} is not registered for this client`);
    }
  }
  if (scopes.length === 0) throw new OAuthError("invalid_scope", "no scope left to grant");
  return sortScopes(scopes);
}
