/**
 * One ES256 signature (or verification) of an RFC 9068-shaped access token, the unit of work every
 * token request (or token check) pays. The key is a fixed benchmark-only key, imported once per
 * isolate (as the real worker does with its stored key), so each request costs exactly one signature.
 * bench/fixtures.mjs signs the bearer token the "jwt-do-read" reference verifies with the same key.
 */
import { importJWK, jwtVerify, SignJWT } from "jose";
// Benchmark-only P-256 key; it signs nothing outside `npm run bench`.
import BENCH_KEY from "./bench-key.json";

const { d: _private, ...BENCH_PUBLIC_KEY } = BENCH_KEY;
export const ISSUER = "http://127.0.0.1:8787";

let key: ReturnType<typeof importJWK> | undefined;
let publicKey: ReturnType<typeof importJWK> | undefined;

export async function signAccessToken(clientId: string, jti: string): Promise<string> {
  key ??= importJWK(BENCH_KEY, "ES256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    client_id: clientId,
    scope: "openid profile ir.incidents:read oc.alerts:read",
    team_id: "team_bench",
    jti,
  })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: BENCH_KEY.kid })
    .setIssuer(ISSUER)
    .setSubject("usr_bench")
    .setAudience(ISSUER)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(await key);
}

/** One ES256 verification with the checks RFC 9068 §4 asks of a resource (typ, iss, aud, exp). */
export async function verifyAccessToken(token: string): Promise<{ sub: string; jti: string }> {
  publicKey ??= importJWK(BENCH_PUBLIC_KEY, "ES256");
  const { payload } = await jwtVerify(token, await publicKey, {
    issuer: ISSUER,
    audience: ISSUER,
    typ: "at+jwt",
    algorithms: ["ES256"],
  });
  return { sub: String(payload.sub), jti: String(payload.jti) };
}

const decoder = new TextDecoder();

/**
 * The form body of a token request (RFC 6749 §3.2), read whole; empty when there is none. Read as
 * bytes and decoded: in this workerd, `request.text()` costs about 2 ms more per request than
 * `arrayBuffer()`, which would make the reference slower than the floor it stands for.
 */
export async function readTokenForm(request: Request): Promise<URLSearchParams> {
  return new URLSearchParams(decoder.decode(await request.arrayBuffer()));
}

/** The token response body the way RFC 6749 §5.1 shapes it. */
export function tokenResponse(accessToken: string): Response {
  return Response.json(
    { access_token: accessToken, token_type: "Bearer", expires_in: 3600 },
    { headers: { "Cache-Control": "no-store" } },
  );
}
