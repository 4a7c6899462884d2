/** PKCE (RFC 7636) with S256, the only method the server accepts (OAuth 2.1). */
import { calculatePKCECodeChallenge, generateRandomCodeVerifier } from "oauth4webapi";

export interface PkcePair {
  verifier: string;
  challenge: string;
  method: "S256";
}

/** A fresh code_verifier (RFC 7636 §4.1) and its S256 code_challenge (§4.2). */
export async function pkcePair(): Promise<PkcePair> {
  const verifier = generateRandomCodeVerifier();
  return { verifier, challenge: await calculatePKCECodeChallenge(verifier), method: "S256" };
}
