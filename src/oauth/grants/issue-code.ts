/**
 * Issuing an authorization code: a new token family in the user's UserGrants object (hash only,
 * single use, 60 s) and its row in the D1 family index.
 */
import { userGrants } from "../../durable/stub";
import { insertTokenFamily } from "../../store/token-families";
import type { UserInTeam } from "../../store/users";
import { mintGrantToken } from "../../tokens/grant-tokens";
import { randomToken, sha256 } from "../../tokens/secrets";
import type { AuthorizationRequest } from "../authorization-request";
import type { GrantContext } from "./context";

export interface CodeGrant {
  request: AuthorizationRequest;
  /** The signed-in user and the membership the code is for, as read by this request. */
  holder: UserInTeam;
  /** What the user approved (or had approved before): requested ∩ consent, role-grantable only. */
  scopes: string[];
  /** Unix seconds of the session's sign-in. */
  authTime: number;
}

export async function issueAuthorizationCode(ctx: GrantContext, grant: CodeGrant): Promise<string> {
  const { user, membership } = grant.holder;
  const userId = user.id;
  const teamId = membership.teamId;
  const familyId = randomToken(16);
  const now = Date.now();
  const code = await mintGrantToken(ctx.settings, "code", { userId, familyId, teamId });
  // Index first: a family the index does not know could escape "revoke every token of this app".
  await insertTokenFamily(ctx.db, {
    id: familyId,
    userId,
    clientId: grant.request.client.id,
    teamId,
    scopes: grant.scopes,
    resource: grant.request.resource,
    createdAt: now,
  });
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
    // The code exchange answers from this snapshot (at most codeTtl old) instead of reading D1.
    holder: { email: user.email, name: user.name, role: membership.role, onCallRole: membership.onCallRole },
    codeHash: await sha256(code),
    codeChallenge: grant.request.codeChallenge,
    expiresAt: now + ctx.settings.codeTtl * 1000,
    now,
  });
  return code;
}
