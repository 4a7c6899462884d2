/**
 * Issuing an authorization code: a new token family in the user's UserGrants object (hash only,
 * single use, 60 s) and, in waitUntil, its row in the D1 family index (batched per isolate).
 */
import { userGrants } from "../../durable/stub";
import { indexTokenFamily } from "../../store/token-families";
import { mintGrantToken } from "../../tokens/grant-tokens";
import { randomToken, sha256 } from "../../tokens/secrets";
import type { AuthorizationRequest } from "../authorization-request";
import type { GrantContext } from "./context";

export interface CodeGrant {
  request: AuthorizationRequest;
  /**
   * The signed-in user's membership the code is for, with their email and name and the
   * `membership_version` read in the same statement (it fills the object's holder section if newer).
   */
  holder: {
    userId: string;
    teamId: string;
    role: string;
    onCallRole: string;
    email: string | null;
    name: string | null;
    membershipVersion: number;
  };
  /** What the user approved (or had approved before): requested ∩ consent, role-grantable only. */
  scopes: string[];
  /** Unix seconds of the session's sign-in. */
  authTime: number;
}

export async function issueAuthorizationCode(ctx: GrantContext, grant: CodeGrant): Promise<string> {
  const { holder } = grant;
  const { userId, teamId } = holder;
  const familyId = randomToken(16);
  const now = Date.now();
  const code = await mintGrantToken(ctx.settings, "code", { userId, familyId, teamId });
  // The index follows in waitUntil: "revoke every token of this app" also stamps the client, and the
  // object refuses a family created before that stamp, so a family the index learns of late cannot escape.
  ctx.defer(
    indexTokenFamily(ctx.db, {
      id: familyId,
      userId,
      clientId: grant.request.client.id,
      teamId,
      scopes: grant.scopes,
      resource: grant.request.resource,
      createdAt: now,
    }),
  );
  await userGrants(ctx.env, userId).issueCode({
    familyId,
    clientId: grant.request.client.id,
    teamId,
    scopes: grant.scopes,
    resource: grant.request.resource,
    nonce: grant.request.nonce,
    authTime: grant.authTime,
    redirectUri: grant.request.redirectUri,
    redirectUriRequired: grant.request.redirectUriInRequest,
    // Fills the object's holder section if this read of D1 is newer than what it holds.
    holder: { email: holder.email, name: holder.name, role: holder.role, onCallRole: holder.onCallRole },
    holderVersion: holder.membershipVersion,
    codeHash: await sha256(code),
    codeChallenge: grant.request.codeChallenge,
    expiresAt: now + ctx.settings.codeTtl * 1000,
    now,
  });
  return code;
}
