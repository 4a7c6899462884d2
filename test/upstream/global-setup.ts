/**
 * vitest globalSetup (Node side): starts the real upstream OpenID Provider once for the run and
 * hands its issuer to the worker pool (vitest.config.ts binds it as TEST_UPSTREAM_ISSUER).
 */
import type { TestProject } from "vitest/node";
import { startUpstream } from "./provider";

declare module "vitest" {
  export interface ProvidedContext {
    upstreamIssuer: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const upstream = await startUpstream();
  project.provide("upstreamIssuer", upstream.issuer);
  return () => upstream.close();
}
