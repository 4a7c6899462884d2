/**
 * vitest globalSetup (Node side): starts the metadata-document server once for the run and hands
 * its origin to the worker pool (vitest.config.ts binds it as TEST_METADATA_DOCUMENT_ORIGIN).
 */
import type { TestProject } from "vitest/node";
import { startDocumentServer } from "./server";

declare module "vitest" {
  export interface ProvidedContext {
    metadataDocumentOrigin: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startDocumentServer();
  project.provide("metadataDocumentOrigin", server.origin);
  return () => server.close();
}
