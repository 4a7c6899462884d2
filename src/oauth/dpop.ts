/**
 * DPoP at edge-oidc's own endpoints (RFC 9449): reading the one `DPoP` header of a request, the
 * checks of §4.3 (dpop-proof.ts), the server nonce (§8, dpop-nonce.ts), and the rules about which
 * clients and tokens need a proof. The proof's jti is spent afterwards, atomically, in the Durable
 * Object the request reaches anyway (docs/security.md explains where and why).
 */
import type { Settings } from "../config";
import type { ClientRow } from "../store/clients";
import { currentDpopNonce, isCurrentDpopNonce } from "./dpop-nonce";
import { type VerifiedProof, verifyDpopProof } from "./dpop-proof";
import { OAuthError } from "./errors";
import { ENDPOINT_PATHS, endpointUrl } from "./metadata";

export type { VerifiedProof } from "./dpop-proof";

/**
 * Where the proof arrives: the token endpoint answers 400 with a JSON error (§5.2, §8); a protected
 * resource (UserInfo) 401 with `WWW-Authenticate: DPoP` (§7.1, §9). Introspection and revocation
 * are client-authenticated endpoints like the token endpoint.
 */
export type ProofSurface = "token_endpoint" | "resource";

export interface ProofRequest {
  /** The `DPoP` request header, as the platform joined it (several headers become "a, b"). */
  header: string | undefined;
  method: string;
  /** The endpoint path; htu is its URL at the configured issuer's origin, never the Host header. */
  path: string;
  /** At a protected resource: the access token the proof must carry the hash of (`ath`). */
  accessToken?: string;
  surface: ProofSurface;
}

function refusal(
  surface: ProofSurface,
  code: "invalid_dpop_proof" | "use_dpop_nonce",
  description: string,
  headers?: Record<string, string>,
) {
  return surface === "resource"
    ? new OAuthError(code, description, { status: 401, dpop: true, headers })
    : new OAuthError(code, description, { status: 400, headers });
}

/**
 * The verified proof of this request, or undefined when it carries none. Throws
 * `invalid_dpop_proof`, or `use_dpop_nonce` with a fresh `DPoP-Nonce` header (§8.1, §9) when the
 * proof has no nonce or an expired one — a correct client retries once with it.
 */
export async function readDpopProof(settings: Settings, request: ProofRequest): Promise<VerifiedProof | undefined> {
  const header = request.header;
  if (header === undefined) return undefined;
  // §4.3 point 1: exactly one DPoP header, holding exactly one JWT.
  if (header === "" || header.includes(",")) {
    throw refusal(request.surface, "invalid_dpop_proof", "send exactly one DPoP header (RFC 9449 §4.3)");
  }
  const checked = await verifyDpopProof(header, {
    htm: request.method,
    htu: endpointUrl(settings, request.path),
    accessToken: request.accessToken,
  });
  if ("problem" in checked) throw refusal(request.surface, "invalid_dpop_proof", checked.problem);
  if (!(await isCurrentDpopNonce(settings, checked.proof.nonce))) {
    throw refusal(
      request.surface,
      "use_dpop_nonce",
      "use the server-provided DPoP nonce in the DPoP-Nonce header (RFC 9449 §8)",
      await dpopNonceHeader(settings),
    );
  }
  return checked.proof;
}

/** §8.2: every answer to a DPoP request carries the current nonce, so clients follow rotations. */
export async function dpopNonceHeader(settings: Settings): Promise<Record<string, string>> {
  return { "DPoP-Nonce": await currentDpopNonce(settings) };
}

/** RFC 9449 §5.2: a client that registered `dpop_bound_access_tokens: true` must always send a proof. */
export function clientRequiresDpop(client: ClientRow): boolean {
  return client.metadata.dpop_bound_access_tokens === true;
}

/**
 * §5: a public client's refresh token is bound to the proof's key (it has no other authentication);
 * a confidential client's is not, since it authenticates every refresh.
 */
export function bindsRefreshToken(client: ClientRow): boolean {
  return client.tokenEndpointAuthMethod === "none";
}

/**
 * The proof sent to a client-authenticated endpoint (token, introspection, revocation), checked,
 * or undefined without one. RFC 9449 defines none at introspection and revocation; one that is sent
 * anyway is checked and then spent by the caller, never silently ignored.
 */
export function clientEndpointProof(
  settings: Settings,
  path: (typeof ENDPOINT_PATHS)["token" | "introspection" | "revocation"],
  header: string | undefined,
): Promise<VerifiedProof | undefined> {
  return readDpopProof(settings, { header, method: "POST", path, surface: "token_endpoint" });
}

/** The token-endpoint proof rule: present and valid, or absent for a client that may go without. */
export async function tokenEndpointProof(
  settings: Settings,
  client: ClientRow,
  header: string | undefined,
): Promise<VerifiedProof | undefined> {
  const proof = await clientEndpointProof(settings, ENDPOINT_PATHS.token, header);
  if (!proof && clientRequiresDpop(client)) {
    throw new OAuthError(
      "invalid_dpop_proof",
      "this client registered dpop_bound_access_tokens: send a DPoP proof (RFC 9449 §5.2)",
    );
  }
  return proof;
}
