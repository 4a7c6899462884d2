/**
 * id_token_hint (OIDC Core §3.1.2.1): an ID token this server issued to the client, naming the
 * end-user the client expects to be signed in. An invalid hint is invalid_request; a valid one for
 * another user than the signed-in one is login_required with prompt=none (OIDC Core §3.1.2.6), and
 * otherwise sends the person to sign in as that user — a code is never issued for someone else.
 */
import type { Settings } from "../config";
import type { Db } from "../store/db";
import { verifyIssuedIdToken } from "../tokens/id-token";
import { keysetOf } from "../tokens/signing-keys";
import type { AuthorizationRequest } from "./authorization-request";
import { OAuthError } from "./errors";

export interface HintedUser {
  /** The hint's `sub`: the user id every ID token carries. */
  subject: string;
  /** The hint's email claim, when the client was granted `email`. */
  email?: string;
}

/** The user the request's id_token_hint names, or undefined when there is none. */
export async function readIdTokenHint(
  db: Db,
  settings: Settings,
  request: AuthorizationRequest,
): Promise<HintedUser | undefined> {
  if (request.idTokenHint === undefined) return undefined;
  // Expired ID tokens are good hints; ones signed with a key retired from the JWKS no longer verify.
  const verified = await verifyIssuedIdToken(
    await keysetOf(db, settings),
    settings,
    request.idTokenHint,
    request.client.id,
  );
  if (!verified) {
    throw new OAuthError("invalid_request", "id_token_hint is not an ID token this server issued to this client");
  }
  return { subject: verified.sub, email: verified.email };
}

/**
 * True when the signed-in user is not the one the hint names, so the person must sign in as that
 * user first; with prompt=none nothing may be shown, so that is login_required (OIDC Core §3.1.2.6).
 */
export function signedInAsOtherUser(
  request: AuthorizationRequest,
  hinted: HintedUser | undefined,
  signedInUserId: string,
): boolean {
  if (!hinted || hinted.subject === signedInUserId) return false;
  if (request.prompt.has("none")) {
    throw new OAuthError("login_required", "the end-user id_token_hint names is not signed in");
  }
  return true;
}

/**
 * What to prefill on the sign-in page: the hint's own email claim, else the client's login_hint.
 * Never the hinted user's email from our records: a client not granted `email` (OIDC Core §5.4)
 * could otherwise read it from the sign-in redirect.
 */
export function signInLoginHint(request: AuthorizationRequest, hinted: HintedUser | undefined): string | undefined {
  return hinted?.email ?? request.loginHint;
}
