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
          // Client ID Metadata Documents served on 127.0.0.1 by test/metadata-documents/. The CIMD tests
          // add ALLOW_LOOPBACK_METADATA_DOCUMENTS=true to their own env (not here: config.ts refuses it
          // with the public issuers other test files use).
          TEST_METADATA_DOCUMENT_ORIGIN: inject("metadataDocumentOrigin"),
        },
      },
    })),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/e2e/**"],
    setupFiles: ["./test/setup.ts"],
    // Starts the real upstream OpenID Provider (oidc-provider on 127.0.0.1) for upstream sign-in tests.
    // …and the Client ID Metadata Document server (test/metadata-documents/, also on 127.0.0.1).
    globalSetup: ["./test/upstream/global-setup.ts", "./test/metadata-documents/global-setup.ts"],
  },
});
