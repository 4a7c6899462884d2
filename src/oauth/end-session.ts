/**
 * OpenID Connect RP-Initiated Logout 1.0: validating a logout request (§2) and deciding whether the
 * person must confirm it. A failure here is shown as a page, never redirected: the client and its
 * post_logout_redirect_uri are not verified yet (§3: the OP MUST NOT redirect to an unregistered URI).
 */
import { decodeJwt } from "jose";
import type { Env, Settings } from "../config";
import { MAX_CLIENT_ID_LENGTH, MAX_ID_TOKEN_HINT_LENGTH, MAX_PARAMETER_LENGTH } from "../limits";
import type { ClientRow } from "../store/clients";
import { verifyIssuedIdToken } from "../tokens/id-token";
import type { Keyset } from "../tokens/signing-keys";
import { resolveClient } from "./client-lookup";

/** The parameters of §2 that we read; everything else is ignored (ui_locales: English only). */
export const LOGOUT_PARAMETERS = [
  "id_token_hint",
  "logout_hint",
  "client_id",
  "post_logout_redirect_uri",
  "state",
  "ui_locales",
] as const;

export type LogoutParams = Partial<Record<(typeof LOGOUT_PARAMETERS)[number], string>>;

export interface LogoutRequest {
  /** The client the request is from (client_id, or the ID token's audience), when one is named. */
  client: ClientRow | undefined;
  /** Where to send the browser afterwards: the registered URI with `state`, or none (a signed-out page). */
  redirectTo: string | undefined;
  /** The `sub` of a valid id_token_hint. */
  hintedSubject: string | undefined;
  logoutHint: string | undefined;
}

/** A request that cannot be trusted with a redirect: the page says why. */
export class LogoutRequestError extends Error {}

/** An ID token fits in 8 KiB; everything else, state included (it goes into a Location header), in 2 KiB. */
const maxLength = (name: string) => (name === "id_token_hint" ? MAX_ID_TOKEN_HINT_LENGTH : MAX_PARAMETER_LENGTH);

/** Reads the parameters; a repeated one is refused (as RFC 6749 §3.1 does for OAuth requests). */
export function readLogoutParams(source: URLSearchParams): LogoutParams {
  const params: LogoutParams = {};
  for (const name of LOGOUT_PARAMETERS) {
    const values = source.getAll(name);
    if (values.length > 1) throw new LogoutRequestError(`The ${name} parameter was sent more than once.`);
    const value = values[0];
    if (value === undefined || value === "") continue;
    if (value.length > maxLength(name)) throw new LogoutRequestError(`The ${name} parameter is too long.`);
    params[name] = value;
  }
  return params;
}

export async function checkLogoutRequest(
  env: Env,
  settings: Settings,
  keyset: () => Promise<Keyset>,
  params: LogoutParams,
): Promise<LogoutRequest> {
  let hintedSubject: string | undefined;
  let clientId = params.client_id;
  if (params.id_token_hint) {
    // §2: with both, the client_id must be the one the ID token was issued to; without client_id,
    // the token names its client (aud), which verifyIssuedIdToken then checks with the signature.
    const audience = clientId ?? claimedAudience(params.id_token_hint);
    const hint = audience ? await verifyIssuedIdToken(await keyset(), settings, params.id_token_hint, audience) : null;
    if (!hint) throw new LogoutRequestError("The id_token_hint is not an ID token this server issued to this app.");
    hintedSubject = hint.sub;
    clientId = audience;
  }
  const client = clientId ? (await resolveClient(env, settings, clientId)).client : undefined;
  if (clientId !== undefined && !client) throw new LogoutRequestError("The application is not registered here.");

  let redirectTo: string | undefined;
  const uri = params.post_logout_redirect_uri;
  if (uri !== undefined) {
    // §2: the OP needs to know the client to check the URI; §3.1: exact match with what it registered.
    if (!client) {
      throw new LogoutRequestError("A post_logout_redirect_uri needs client_id or id_token_hint to say whose it is.");
    }
    if (!client.postLogoutRedirectUris.includes(uri)) {
      throw new LogoutRequestError(
        "The post_logout_redirect_uri is not registered for this application, so we will not send you there.",
      );
    }
    const url = new URL(uri);
    if (params.state !== undefined) url.searchParams.set("state", params.state);
    redirectTo = url.href;
  }
  return { client, redirectTo, hintedSubject, logoutHint: params.logout_hint };
}

/**
 * §2/§3: the session may end without asking only when the request verifiably comes from the client
 * holding it — a valid id_token_hint for the signed-in person — and any logout_hint names them too.
 */
export function needsConfirmation(request: LogoutRequest, person: { id: string; email: string | null }): boolean {
  if (request.hintedSubject !== person.id) return true;
  return request.logoutHint !== undefined && request.logoutHint.toLowerCase() !== person.email?.toLowerCase();
}

/** The client an (unverified) ID token says it was issued to: its aud, or its first one. */
function claimedAudience(token: string): string | undefined {
  try {
    const { aud } = decodeJwt(token);
    const first = Array.isArray(aud) ? aud[0] : aud;
    return typeof first === "string" && first.length <= MAX_CLIENT_ID_LENGTH ? first : undefined;
  } catch {
    return undefined;
  }
}
