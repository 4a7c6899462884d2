/** Resource indicators (RFC 8707): which audience a token is for. */
import { isLoopbackHost, type Settings } from "../config";
import { OAuthError } from "./errors";

/**
 * The audience for a requested `resource`: omitted → the configured default audience. With an
 * operator allow-list only listed resources are accepted; without one, any https resource (and
 * http on loopback while the issuer itself is loopback, for local development) — RFC 8707 §2.
 */
export function resolveResource(settings: Settings, requested: string | undefined): string {
  if (requested === undefined || requested === "") return settings.defaultAudience;
  if (requested === settings.defaultAudience) return requested;
  let url: URL;
  try {
    url = new URL(requested);
  } catch {
    throw new OAuthError("invalid_target", "resource must be an absolute URI (RFC 8707 §2)");
  }
  if (requested.includes("#") || requested.length > 2048) {
    throw new OAuthError("invalid_target", "resource must not contain a fragment (RFC 8707 §2)");
  }
  if (settings.resourceAllowList) {
    // Compared as parsed URLs, so `https://api.example.com` and `https://api.example.com/` (what
    // URL.href makes of it, as some MCP clients send) are one resource; aud is the listed spelling.
    const listed = settings.resourceAllowList.find((r) => r === requested || new URL(r).href === url.href);
    if (listed === undefined) {
      throw new OAuthError("invalid_target", "resource is not served by this authorization server");
    }
    return listed;
  }
  const localHttp = url.protocol === "http:" && settings.issuerIsLoopback && isLoopbackHost(url.hostname);
  if (url.protocol !== "https:" && !localHttp) {
    throw new OAuthError("invalid_target", "resource must be an https URI");
  }
  return requested;
}
