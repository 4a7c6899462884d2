/** Resource indicators (RFC 8707): which audience a token is for. */
import { isLoopbackHost, type Settings } from "../config";
import { MAX_PARAMETER_LENGTH } from "../limits";
import { OAuthError } from "./errors";

/**
 * The audience for a requested `resource`: omitted → the configured default audience. With an
 * operator allow-list only listed resources are accepted; without one, any https resource (and
 * http on loopback while the issuer itself is loopback, for local development) — RFC 8707 §2.
 */
export function resolveResource(settings: Settings, requested: string | undefined): string {
  if (requested === undefined || requested === "") return settings.defaultAudience;
  if (requested === settings.defaultAudience) return requested;
  if (requested.length > MAX_PARAMETER_LENGTH) {
    throw new OAuthError("invalid_target", `resource is too long (at most ${MAX_PARAMETER_LENGTH} characters)`);
  }
  const url = URL.parse(requested);
  if (!url) throw new OAuthError("invalid_target", "resource must be an absolute URI (RFC 8707 §2)");
  if (requested.includes("#")) {
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

/**
 * The `aud` of an access token (RFC 9068 §3, RFC 8707 §2): the audience it is for, plus the issuer
 * when `openid` is granted, because such a token is also for our UserInfo endpoint (OIDC Core §5.3) —
 * gateways that validate tokens by calling UserInfo keep working. Without `openid` it is the
 * audience alone, and UserInfo refuses it.
 */
export function accessTokenAudience(
  settings: Settings,
  audience: string,
  scopes: readonly string[],
): string | string[] {
  if (audience === settings.issuer || !scopes.includes("openid")) return audience;
  return [audience, settings.issuer];
}

/** RFC 9068 §4: a resource accepts a token only when its `aud` names it; UserInfo's name is the issuer. */
export function isAudienceOf(aud: string | readonly string[], audience: string): boolean {
  return typeof aud === "string" ? aud === audience : aud.includes(audience);
}
