/**
 * DPoP proof validation (RFC 9449 §4.3): the one check used by the token endpoint, UserInfo,
 * introspection, revocation and the resource-server helper. Pure (jose and Web Crypto only): it
 * says whether a proof is well formed, signed by the key in its header, for this request and fresh;
 * whether its `jti` was seen before is decided by the caller, atomically, in a Durable Object.
 */
import { base64url, calculateJwkThumbprint, EmbeddedJWK, errors, type JWK, jwtVerify } from "jose";
import { DPOP_SIGNING_ALGS } from "./signing-algorithms";

/** §4.3 point 11: "within an acceptable window". Proofs are made just before the request. */
export const PROOF_MAX_AGE_SECONDS = 60;
/** A client clock slightly ahead is tolerated; further ahead it should use the server nonce. */
export const PROOF_MAX_FUTURE_SECONDS = 10;
/** Far above a real proof (a header JWK of RSA-4096 is ~800 bytes); refused before any parsing. */
const MAX_PROOF_LENGTH = 4096;
const MAX_JTI_LENGTH = 256;

export interface ProofExpectations {
  /** The HTTP method of the request (§4.3 point 8). */
  htm: string;
  /** The request URI without query and fragment, as the server publishes it (§4.3 point 9). */
  htu: string;
  /** The access token presented with the proof, at a protected resource (§4.3 point 12, `ath`). */
  accessToken?: string;
  /** Unix seconds; tests pass another instant. */
  now?: number;
}

export interface VerifiedProof {
  /** RFC 7638 thumbprint (SHA-256) of the proof's public key: the `cnf.jkt` it binds (§6.1). */
  jkt: string;
  jti: string;
  /** Unix seconds. */
  iat: number;
  nonce: string | undefined;
  /** How long the jti must be remembered (Unix ms): past the end of the acceptance window. */
  replayUntil: number;
}

export type ProofCheck = { proof: VerifiedProof } | { problem: string };

/**
 * §4.3 point 9: htu is compared after syntax- and scheme-based normalisation (RFC 3986 §6.2.2,
 * §6.2.3) — case of scheme and host, default port, dot segments (all done by the URL parser),
 * percent-encoding case and unreserved characters — ignoring query and fragment.
 */
export function normalizeHtu(value: string): string | undefined {
  const url = URL.parse(value);
  if (!url) return undefined;
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  const path = (url.pathname || "/").replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return `${url.protocol}//${url.host}${path}`;
}

/** §4.3 point 12: `ath` = base64url(SHA-256(ASCII access token)). */
export async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}

function describe(e: unknown): string {
  if (e instanceof errors.JOSEAlgNotAllowed || e instanceof errors.JOSENotSupported) {
    return `the DPoP proof's alg must be one of ${DPOP_SIGNING_ALGS.join(", ")} (RFC 9449 §4.3)`;
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === "typ") return 'the DPoP proof\'s typ must be "dpop+jwt" (RFC 9449 §4.2)';
    return `the DPoP proof's ${e.claim} claim is missing or invalid (RFC 9449 §4.2)`;
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) return "the DPoP proof's signature is invalid";
  return "the DPoP proof is not a valid JWT signed with the public key in its jwk header (RFC 9449 §4.2)";
}

/** Every check of RFC 9449 §4.3 except the jti replay check (points 1–12 but 10's storage part). */
export async function verifyDpopProof(proof: string, expect: ProofExpectations): Promise<ProofCheck> {
  if (proof.length > MAX_PROOF_LENGTH || proof.split(".").length !== 3) {
    return { problem: "the DPoP header is not a single compact JWT (RFC 9449 §4.3)" };
  }
  let payload: Record<string, unknown>;
  let jwk: JWK;
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: "dpop+jwt",
      algorithms: [...DPOP_SIGNING_ALGS],
      requiredClaims: ["jti", "htm", "htu", "iat"],
    });
    payload = verified.payload;
    jwk = verified.protectedHeader.jwk as JWK;
  } catch (e) {
    return { problem: describe(e) };
  }
  const now = expect.now ?? Math.floor(Date.now() / 1000);
  const { jti, htm, htu, iat, nonce, ath } = payload;
  if (typeof jti !== "string" || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    return { problem: "the DPoP proof's jti must be a non-empty string of at most 256 characters" };
  }
  if (htm !== expect.htm) return { problem: `the DPoP proof's htm must be ${expect.htm} (RFC 9449 §4.3)` };
  if (typeof htu !== "string" || normalizeHtu(htu) !== normalizeHtu(expect.htu)) {
    return { problem: `the DPoP proof's htu must be ${expect.htu} (RFC 9449 §4.3)` };
  }
  if (typeof iat !== "number" || iat < now - PROOF_MAX_AGE_SECONDS || iat > now + PROOF_MAX_FUTURE_SECONDS) {
    return { problem: "the DPoP proof's iat is outside the accepted window (RFC 9449 §4.3, §11.1)" };
  }
  if (nonce !== undefined && typeof nonce !== "string") return { problem: "the DPoP proof's nonce must be a string" };
  if (expect.accessToken !== undefined) {
    if (typeof ath !== "string") return { problem: "the DPoP proof has no ath (RFC 9449 §4.3, §7)" };
    if (ath !== (await accessTokenHash(expect.accessToken))) {
      return { problem: "the DPoP proof's ath does not match the access token (RFC 9449 §4.3)" };
    }
  }
  return {
    proof: {
      jkt: await calculateJwkThumbprint(jwk, "sha256"),
      jti,
      iat,
      nonce,
      // Remembered until no proof with this iat can be accepted any more.
      replayUntil: (iat + PROOF_MAX_AGE_SECONDS + 1) * 1000,
    },
  };
}

/** The replay-ledger entry of a proof: its jti is unique per key (RFC 9449 §11.1). */
export function proofReplayKey(proof: VerifiedProof): string {
  return `dpop:${proof.jkt}:${proof.jti}`;
}
