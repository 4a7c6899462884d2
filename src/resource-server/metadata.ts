/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document a resource server publishes so
 * that clients (MCP clients first of all) can find its authorization server from a 401.
 */

export interface ProtectedResourceDescription {
  /** The resource identifier (RFC 9728 §2 `resource`; RFC 8707): what tokens carry as `aud`. */
  resource: string;
  /** Issuers of the authorization servers that mint tokens for it (RFC 9728 §2). */
  authorizationServers: string[];
  scopesSupported?: string[];
  resourceName?: string;
  resourceDocumentation?: string;
  /** RFC 9728 §2: the DPoP proof algorithms accepted, and whether bound tokens are required. */
  dpopSigningAlgs?: string[];
  dpopBoundAccessTokensRequired?: boolean;
}

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

/**
 * RFC 9728 §3.1: the metadata URL inserts the well-known segment between the host and the
 * resource's path (`https://rs.example/mcp` → `https://rs.example/.well-known/oauth-protected-resource/mcp`).
 */
export function metadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === "/" ? "" : url.pathname.replace(/\/$/, "");
  return `${url.origin}${WELL_KNOWN}${path}`;
}

/** Paths to serve the document at: the RFC 9728 §3.1 form, and the root form that clients also probe. */
export function metadataPaths(resource: string): string[] {
  const path = new URL(metadataUrl(resource)).pathname;
  return path === WELL_KNOWN ? [WELL_KNOWN] : [path, WELL_KNOWN];
}

/** RFC 9728 §2 document. Tokens go in the Authorization header only (RFC 6750 §2.1, RFC 9449 §7.1). */
export function protectedResourceMetadata(d: ProtectedResourceDescription): Record<string, unknown> {
  return {
    resource: d.resource,
    authorization_servers: d.authorizationServers,
    ...(d.scopesSupported ? { scopes_supported: d.scopesSupported } : {}),
    bearer_methods_supported: ["header"],
    ...(d.resourceName ? { resource_name: d.resourceName } : {}),
    ...(d.resourceDocumentation ? { resource_documentation: d.resourceDocumentation } : {}),
    ...(d.dpopSigningAlgs ? { dpop_signing_alg_values_supported: d.dpopSigningAlgs } : {}),
    ...(d.dpopBoundAccessTokensRequired ? { dpop_bound_access_tokens_required: true } : {}),
  };
}
