/**
 * Local-development defaults shared by `npm run dev` and `npm run admin`. Only ever used with the
 * loopback issuer; a deployed worker gets its ADMIN_API_TOKEN from `wrangler secret put`.
 */
export const LOCAL_ORIGIN = "http://127.0.0.1:8787";
export const LOCAL_ADMIN_API_TOKEN = "local-dev-admin-token-not-a-secret-0000000000";

/** The Demo team's people as seed/demo.sql creates them (printed by `npm run dev`; keep the two in step). */
export const DEMO_ACCOUNTS = [
  { email: "admin@example.com", role: "admin", onCallRole: "admin" },
  { email: "member@example.com", role: "member", onCallRole: "responder" },
  { email: "observer@example.com", role: "observer", onCallRole: "observer" },
];
