/**
 * A real upstream OpenID Provider for the sign-in tests: oidc-provider on 127.0.0.1 (Node side).
 * It knows one client (the worker) and the accounts in accounts.ts. Instead of a login page it has
 * a minimal interaction endpoint a test drives without a human:
 *   GET  /interaction/:uid            → JSON { uid, prompt, login_hint }
 *   POST /interaction/:uid  account=… → signs that account in and grants what was asked, then 303s
 *                                      back into the provider's authorization flow.
 *   GET  /test/issued                 → every authorization code and access token it issued, so a
 *                                      test can prove none of them was stored by the worker.
 *   POST /test/forge-next-id-token    → the next token response carries an ID token whose payload
 *                                      says email=admin@example.com under the original signature.
 * End-to-end suites can start it the same way from their own globalSetup (startUpstream).
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";
import { UPSTREAM_ACCOUNTS, UPSTREAM_CLIENT } from "./accounts";

export interface RunningUpstream {
  issuer: string;
  close(): Promise<void>;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function handleInteraction(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (req.method === "GET") {
    sendJson(res, 200, { uid: details.uid, prompt: details.prompt.name, login_hint: details.params.login_hint });
    return;
  }
  const accountId = (await readForm(req)).get("account") ?? "";
  if (!UPSTREAM_ACCOUNTS[accountId]) {
    sendJson(res, 400, { error: `unknown account ${accountId}` });
    return;
  }
  const clientId = String(details.params.client_id);
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } });
}

/** Rewrites the ID token of this token response: a new payload under the old signature. */
function forgeIdTokenIn(res: ServerResponse): void {
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.end = ((chunk?: unknown) => {
    const body = JSON.parse(String(chunk)) as { id_token: string };
    const [header, payload, signature] = body.id_token.split(".");
    const claims = JSON.parse(Buffer.from(payload as string, "base64url").toString("utf8"));
    const forged = Buffer.from(JSON.stringify({ ...claims, email: "admin@example.com" })).toString("base64url");
    body.id_token = `${header}.${forged}.${signature}`;
    const text = JSON.stringify(body);
    res.setHeader("Content-Length", Buffer.byteLength(text));
    return end(text);
  }) as ServerResponse["end"];
}

export interface UpstreamOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** The worker's callback; an end-to-end run on another port passes its own. */
  redirectUri?: string;
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<RunningUpstream> {
  const { port = 0, redirectUri = UPSTREAM_CLIENT.redirectUri } = options;
  let provider: Provider | undefined;
  const issued: { kind: string; value: string; accountId: string }[] = [];
  let forgeNextIdToken = false;
  const server = createServer((req, res) => {
    if (!provider) return sendJson(res, 503, { error: "starting" });
    if (req.url === "/test/issued") return sendJson(res, 200, issued);
    if (req.url === "/test/forge-next-id-token" && req.method === "POST") {
      forgeNextIdToken = true;
      return sendJson(res, 200, { forging: true });
    }
    if (req.url === "/token" && forgeNextIdToken) {
      forgeNextIdToken = false;
      forgeIdTokenIn(res);
    }
    if (req.url?.startsWith("/interaction/")) {
      handleInteraction(provider, req, res).catch((err: Error) => sendJson(res, 400, { error: err.message }));
      return;
    }
    provider.callback()(req, res);
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: "upstream-test-rs256", alg: "RS256", use: "sig" };

  provider = new Provider(issuer, {
    clients: [
      {
        client_id: UPSTREAM_CLIENT.clientId,
        client_secret: UPSTREAM_CLIENT.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [signingKey] },
    async findAccount(_ctx: KoaContextWithOIDC, sub: string) {
      const account = UPSTREAM_ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
    // Google puts `hd` and the email claims in the ID token itself; do the same.
    claims: { openid: ["sub", "hd"], email: ["email", "email_verified"], profile: ["name"] },
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    cookies: { keys: ["edge-oidc test upstream cookie key, not a secret"] },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Grant: 600, Session: 600 },
  });

  // Opaque codes and access tokens: the model's jti is the value the client receives.
  for (const kind of ["authorization_code", "access_token"]) {
    provider.on(`${kind}.saved`, (token: { jti: string; accountId: string }) =>
      issued.push({ kind, value: token.jti, accountId: token.accountId }),
    );
  }

  return {
    issuer,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
