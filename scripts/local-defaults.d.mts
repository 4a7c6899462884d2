/** Types for local-defaults.mjs (used from the TypeScript e2e tests). */

export const LOCAL_ORIGIN: string;
export const LOCAL_ADMIN_API_TOKEN: string;
export const DEMO_ACCOUNTS: ReadonlyArray<{ email: string; role: string; onCallRole: string }>;
