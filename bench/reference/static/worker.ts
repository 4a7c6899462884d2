/**
 * Reference "static": the same JSON document on every request, about the size of the real discovery
 * document (~3 KB). Nothing is cheaper for a worker to answer; it is the ceiling for GET endpoints.
 */
const resources = ["incidents", "services", "environments", "functionalities", "severities", "workflows", "catalogs"];
const DOCUMENT = JSON.stringify({
  issuer: "http://127.0.0.1:8787",
  authorization_endpoint: "http://127.0.0.1:8787/oauth/authorize",
  token_endpoint: "http://127.0.0.1:8787/oauth/token",
  jwks_uri: "http://127.0.0.1:8787/oauth/discovery/keys",
  scopes_supported: ["openid", "profile", "email", "offline_access"].concat(
    ...Array.from({ length: 4 }, (_, i) => resources.flatMap((r) => [`ir${i}.${r}:read`, `ir${i}.${r}:write`])),
  ),
  response_types_supported: ["code"],
  grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
  code_challenge_methods_supported: ["S256"],
  token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
  id_token_signing_alg_values_supported: ["RS256", "ES256"],
  claims_supported: ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "email", "name"],
});

export default {
  fetch(): Response {
    return new Response(DOCUMENT, {
      headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" },
    });
  },
} satisfies ExportedHandler;
