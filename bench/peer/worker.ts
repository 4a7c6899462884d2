/**
 * The peer: @cloudflare/workers-oauth-provider (what users would pick instead of edge-oidc) as one
 * Worker, on the same runtime as edge-oidc under `wrangler dev`, so `npm run bench` can pair their
 * endpoints. The library owns the token endpoint (code exchange, refresh, RFC 7009 revocation), DCR
 * and token validation for the API route; this file adds only what an application must:
 * - `/authorize`: the user is taken as signed in and consented (as in edge-oidc's measured authorize
 *   row), so it validates the request and completes the authorization with the library's helpers.
 * - `/api/userinfo`: a protected API route answering the claims stored with the grant, the
 *   equivalent of OpenID Connect UserInfo (the library validates the token before the handler runs).
 * The resource (token audience) must be this server's own origin, which `wrangler dev` learns only
 * at start (`--var ORIGIN:...`), so the provider is built on the first request, once per isolate.
 */
import { type AuthRequest, type OAuthHelpers, OAuthProvider } from "@cloudflare/workers-oauth-provider";

interface Env {
  OAUTH_KV: KVNamespace;
  ORIGIN: string;
  OAUTH_PROVIDER: OAuthHelpers;
}

/** What the bench user's grant carries: the claims edge-oidc's UserInfo answers for the same scopes. */
interface BenchProps {
  sub: string;
  email: string;
  name: string;
  team_id: string;
  role: string;
  on_call_role: string;
}

const BENCH_USER: BenchProps = {
  sub: "usr_bench",
  email: "member@example.com",
  name: "Bench Member",
  team_id: "team_demo",
  role: "member",
  on_call_role: "responder",
};

const userinfo = {
  async fetch(_request: Request, _env: Env, ctx: ExecutionContext): Promise<Response> {
    // The library validated the token and put the grant's props here (its docs/resource-servers.md).
    return Response.json(ctx.props as BenchProps, { headers: { "Cache-Control": "no-store" } });
  },
};

const authorize = {
  async fetch(request: Request, env: Env): Promise<Response> {
    const oauthRequest: AuthRequest = await env.OAUTH_PROVIDER.parseAuthRequest(request);
    const { redirectTo } = await env.OAUTH_PROVIDER.completeAuthorization({
      request: oauthRequest,
      userId: BENCH_USER.sub,
      metadata: {},
      scope: oauthRequest.scope,
      props: BENCH_USER,
      // The bench mints pools of grants for one user and client; the default would revoke each
      // earlier grant (and the pool with it) when the next one completes.
      revokeExistingGrants: false,
    });
    return Response.redirect(redirectTo, 302);
  },
};

let provider: OAuthProvider<Env> | undefined;

function providerFor(env: Env): OAuthProvider<Env> {
  provider ??= new OAuthProvider<Env>({
    apiRoute: "/api/",
    apiHandler: userinfo,
    defaultHandler: authorize,
    authorizeEndpoint: "/authorize",
    tokenEndpoint: "/oauth/token",
    clientRegistrationEndpoint: "/oauth/register",
    scopesSupported: ["openid", "profile", "email", "ir.incidents:read"],
    resourceMetadata: { resource: `${env.ORIGIN}/api/`, authorization_servers: [env.ORIGIN] },
  });
  return provider;
}

export default {
  fetch(request, env, ctx): Promise<Response> {
    return providerFor(env).fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
