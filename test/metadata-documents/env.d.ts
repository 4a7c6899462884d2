declare global {
  namespace Cloudflare {
    interface Env {
      /** Origin of test/metadata-documents/server.ts (http://127.0.0.1:<port>), bound by vitest.config.ts. */
      TEST_METADATA_DOCUMENT_ORIGIN: string;
    }
  }
}

export {};
