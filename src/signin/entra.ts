/**
 * Microsoft Entra specifics: recognising its issuer, and naming a new team after the organization
 * (Microsoft Graph /organization, read once with the sign-in's access token, which is then dropped).
 */

export const MICROSOFT_PERSONAL_ACCOUNTS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";

export function isEntraIssuer(issuer: string): boolean {
  return new URL(issuer).hostname === "login.microsoftonline.com";
}

interface GraphOrganization {
  displayName?: unknown;
  verifiedDomains?: { name?: unknown; isDefault?: unknown }[];
}

/**
 * The organization's display name and primary domain; if Graph cannot tell (no consent to User.Read,
 * a timeout), the email's domain stands in for both, and the tenant id if there is no domain.
 */
export async function describeEntraOrganization(
  accessToken: string,
  tenantId: string,
  email: string,
): Promise<{ name: string; primaryDomain: string | null }> {
  const emailDomain = email.split("@")[1] || null;
  const fallback = { name: emailDomain ?? tenantId, primaryDomain: emailDomain };
  try {
    const res = await fetch("https://graph.microsoft.com/v1.0/organization?$select=displayName,verifiedDomains", {
      headers: { Authorization: `Bearer ${accessToken}`, Accept: "application/json" },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) return fallback;
    const body = (await res.json()) as { value?: GraphOrganization[] };
    const org = body.value?.[0];
    const name = typeof org?.displayName === "string" && org.displayName.trim() ? org.displayName.trim() : null;
    const domains = org?.verifiedDomains ?? [];
    const primary = domains.find((d) => d.isDefault === true) ?? domains[0];
    const primaryDomain = typeof primary?.name === "string" ? primary.name.toLowerCase() : emailDomain;
    return { name: (name ?? fallback.name).slice(0, 200), primaryDomain };
  } catch {
    return fallback;
  }
}
