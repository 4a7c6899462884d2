/**
 * The test upstream's client registration and accounts. Imported by the Node side (the provider)
 * and by the worker-side tests, so it must stay plain data with no imports.
 */

/** The worker's registration at the test upstream. */
export const UPSTREAM_CLIENT = {
  clientId: "edge-oidc-test",
  clientSecret: "test-upstream-client-secret-0123456789abcdef",
  /** Test requests use origin http://127.0.0.1:8787, so the worker's callback is here. */
  redirectUri: "http://127.0.0.1:8787/signin/callback",
} as const;

export interface UpstreamAccount {
  email: string;
  email_verified: boolean;
  name: string;
  /** Google Workspace organization (hosted domain). */
  hd?: string;
}

/** Account id (the upstream `sub`) → what the upstream says about that person. */
export const UPSTREAM_ACCOUNTS: Record<string, UpstreamAccount> = {
  "acme-first": { email: "Ada@Acme.Test", email_verified: true, name: "Ada Acme", hd: "acme.test" },
  "acme-second": { email: "grace@acme.test", email_verified: true, name: "Grace Acme", hd: "acme.test" },
  solo: { email: "solo@mail.test", email_verified: true, name: "Solo Person" },
  unverified: { email: "unverified@acme.test", email_verified: false, name: "Not Verified", hd: "acme.test" },
  // A hostile display name: it must be stored as text and shown escaped.
  hostile: { email: "hostile@mail.test", email_verified: true, name: '<img src=x onerror="alert(1)">' },
};
