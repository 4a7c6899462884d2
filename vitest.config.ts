import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Unit and integration tests inside workerd (@cloudflare/vitest-plugin) with real local D1, KV and
 * Durable Objects. Each test file gets fresh storage; test/setup.ts applies migrations and the seed.
 */
export default defineConfig({
  plugins: [
    cloudflareTest(async ({ inject }) => ({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: {
        bindings: {
          DEV_SIGNIN: "true",
          ADMIN_API_TOKEN: "test-admin-token-0123456789abcdefghijklmnop",
          TEST_MIGRATIONS: await readD1Migrations("./migrations"),
          TEST_SEED_SQL: readFileSync("./seed/demo.sql", "utf8"),
          // Upstream sign-in tests: the real OpenID Provider started by test/upstream/global-setup.ts.
          TEST_UPSTREAM_ISSUER: inject("upstreamIssuer"),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**"],
    setupFiles: ["./test/setup.ts"],
    // Starts the real upstream OpenID Provider (oidc-provider on 127.0.0.1) for upstream sign-in tests.
    globalSetup: ["./test/upstream/global-setup.ts"],
  },
});
