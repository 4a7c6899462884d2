/**
 * Who may change an app, the one rule behind the settings pages, the /api/admin JSON API and the
 * `npm run admin` CLI (which calls that API). An app a team admin (or the operator) created belongs
 * to the team: every change is allowed. A self-registered client (RFC 7591) or a Client ID Metadata
 * Document client belongs to its registrant: its settings and secret are theirs to change (RFC 7592),
 * so the team may only revoke its tokens or delete it.
 */

export type AppType = "public" | "confidential" | "client_credentials";

export type AppChange = "edit" | "reset_secret" | "revoke_tokens" | "delete";

export interface AppOwnership {
  origin: string;
  type: AppType;
  /** token_endpoint_auth_method: a private_key_jwt app (RFC 7523 §2.2) has keys, not a secret. */
  authMethod: string;
}

/** Why a change is refused: the app is not the team's, or it has no secret to reset. */
export type AppChangeRefusal = { reason: "registrant_owned" | "no_secret"; description: string };

/** Why the team may not make this change, or undefined when it may. The text is written for people. */
export function appChangeRefusal(app: AppOwnership, change: AppChange): AppChangeRefusal | undefined {
  if (change === "revoke_tokens" || change === "delete") return undefined;
  if (app.origin !== "admin") {
    return {
      reason: "registrant_owned",
      description:
        "this app registered itself: its settings and secret belong to its registrant (RFC 7592); the team may revoke its tokens or delete it",
    };
  }
  if (change === "reset_secret" && app.type === "public") {
    return { reason: "no_secret", description: "a public client has no secret to reset" };
  }
  if (change === "reset_secret" && app.authMethod === "private_key_jwt") {
    return {
      reason: "no_secret",
      description: "a private_key_jwt app has keys, not a secret: change its keys instead",
    };
  }
  return undefined;
}

export const mayChangeApp = (app: AppOwnership, change: AppChange): boolean =>
  appChangeRefusal(app, change) === undefined;
