/**
 * Request objects (OIDC Core §6, RFC 9101) are not supported: discovery says
 * request_parameter_supported and request_uri_parameter_supported are false. A request that carries
 * one is refused with the code the spec names, never answered from the outer parameters alone — a
 * client that signed its request must never believe the signed values were honoured (the object's
 * state, nonce, scope or redirect_uri may differ from the outer ones). When pushed authorization
 * requests (RFC 9126) arrive, request_uri values issued by that endpoint become the only ones accepted.
 */
import { OAuthError } from "./errors";

export function refuseRequestObject(params: { request?: string; request_uri?: string }): void {
  // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
  // OIDC Core §6.1: "request_not_supported — the OP does not support use of the request parameter".
  if (params.request) {
    throw new OAuthError("request_not_supported", "request objects are not supported (OIDC Core §6.1)");
  }
  // OIDC Core §6.2: "request_uri_not_supported — the OP does not support use of the request_uri parameter".
  if (params.request_uri) {
    throw new OAuthError("request_uri_not_supported", "request_uri is not supported (OIDC Core §6.2)");
  }
}
