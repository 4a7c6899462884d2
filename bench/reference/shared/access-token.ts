/**
 * One ES256 signature of an RFC 9068-shaped access token, the unit of work every token request pays.
 * The key is a fixed benchmark-only key, imported once per isolate (as the real worker does with its
 * stored key), so each request costs exactly one signature.
 */
import { importJWK, SignJWT } from "jose";

// Benchmark-only P-256 key; it signs nothing outside `npm run bench`.
const BENCH_KEY = {
  kty: "EC",
  crv: "P-256",
  x: "GD4JyBpdV8l830hyoRJ66LgwFxH0mhaGkckhV30Ka8o",
  y: "MnYnTpSj-TZX_ZYdqA3Nhb-idtTJD8S1Ga6LgifLSP8",
  d: "jiHycHZWd_x8ygSCiibWDLdKBT154Rgqb2mUIkT0GyQ",
};
const KID = "bench-es256";

let key: ReturnType<typeof importJWK> | undefined;

export async function signAccessToken(clientId: string, jti: string): Promise<string> {
  key ??= importJWK(BENCH_KEY, "ES256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    client_id: clientId,
    scope: "openid profile ir.incidents:read oc.alerts:read",
    team_id: "team_bench",
    jti,
  })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt", kid: KID })
    .setIssuer("http://127.0.0.1:8787")
    .setSubject("usr_bench")
    .setAudience("http://127.0.0.1:8787")
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(await key);
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
