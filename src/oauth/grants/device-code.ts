/**
 * grant_type=urn:ietf:params:oauth:grant-type:device_code (RFC 8628 §3.4–3.5): the device polls;
 * its DeviceAuthorization object answers authorization_pending, slow_down, access_denied or
 * expired_token, and once the person has allowed it, the family in the approver's UserGrants
 * object redeems the device code exactly once (a replay revokes the family, as for codes).
 */
import { deviceAuthorizationById, userGrants } from "../../durable/stub";
import type { ClientRow } from "../../store/clients";
import { deviceCodeObjectId } from "../../tokens/device-code";
import { mintGrantToken } from "../../tokens/grant-tokens";
import { sha256 } from "../../tokens/secrets";
import { OAuthError } from "../errors";
import { DEVICE_CODE_GRANT_TYPE } from "../grant-types";
import { resolveResource } from "../resource";
import type { GrantContext } from "./context";
import { type GrantProof, proofBinding } from "./dpop-binding";
import { answerRedemption, redemptionTerms } from "./family-tokens";
import type { TokenResponse } from "./token-response";

export async function exchangeDeviceCode(
  ctx: GrantContext,
  client: ClientRow,
  form: Record<string, string>,
  proof?: GrantProof,
): Promise<TokenResponse> {
  if (!client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE)) {
    throw new OAuthError("unauthorized_client", "this client did not register the device_code grant");
  }
  const deviceCode = form.device_code;
  if (!deviceCode) throw new OAuthError("invalid_request", "device_code is required (RFC 8628 §3.4)");
  const objectId = deviceCodeObjectId(deviceCode);
  const pending = objectId ? deviceAuthorizationById(ctx.env, objectId) : null;
  if (!pending) throw new OAuthError("invalid_grant", "device code is invalid");
  // RFC 8707 §2.2: checked against the grant by the object before anything changes.
  const requestedAudience = form.resource === undefined ? undefined : resolveResource(ctx.settings, form.resource);

  const codeHash = await sha256(deviceCode);
  const now = Date.now();
  const polled = await pending.poll(codeHash, client.id, now);
  switch (polled.outcome) {
    case "invalid":
      throw new OAuthError("invalid_grant", "device code is invalid");
    case "expired_token":
      throw new OAuthError("expired_token", "the device code has expired; start again (RFC 8628 §3.5)");
    case "access_denied":
      throw new OAuthError("access_denied", "the user denied the request");
    case "authorization_pending":
      throw new OAuthError("authorization_pending", "the user has not answered yet");
    case "slow_down":
      // RFC 8628 §3.5: an error response of RFC 6749 §5.2, so 400 (not the 429 of other rate limits).
      throw new OAuthError("slow_down", `polling too fast: wait ${polled.interval} seconds between requests`, {
        status: 400,
      });
  }
  const route = polled.approval;
  const refreshToken = await mintGrantToken(ctx.settings, "refresh", route);
  const redemption = { ...(await redemptionTerms(ctx, client, refreshToken, requestedAudience, now)), codeHash };
  const grants = userGrants(ctx.env, route.userId);
  // With DPoP (RFC 9449 §5) the proof's jti is spent in the same call, as for authorization codes.
  const result = proof
    ? await grants.redeemDeviceCodeWithProof(redemption, proofBinding(proof, client))
    : await grants.redeemDeviceCode(redemption);
  return answerRedemption(ctx, client, route, result, { refreshToken, now, proof, codeName: "device code" });
}
