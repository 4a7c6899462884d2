/**
 * Test side (inside workerd) of the metadata-document server: publish a document, count fetches,
 * and the bindings with the test-only loopback allowance on (call the worker with callWith).
 */
import { env } from "cloudflare:workers";
import type { Env } from "../../src/config";
import type { DocumentSetup } from "./server";

export const DOCUMENT_ORIGIN = env.TEST_METADATA_DOCUMENT_ORIGIN;

/** The worker's bindings plus the test-only flag that lets metadata documents live on 127.0.0.1. */
export const loopbackEnv: Env = { ...env, ALLOW_LOOPBACK_METADATA_DOCUMENTS: "true" };

let counter = 0;

/** A fresh path on the document server, so tests never share a document or its hit count. */
export function freshPath(name: string): string {
  counter += 1;
  return `/clients/${name}-${counter}-${crypto.randomUUID().slice(0, 8)}.json`;
}

/** Publishes `setup` and returns the URL that is its client_id. */
export async function publish(setup: DocumentSetup): Promise<string> {
  const res = await fetch(`${DOCUMENT_ORIGIN}/_setup`, { method: "POST", body: JSON.stringify(setup) });
  if (res.status !== 204) throw new Error(`document server refused the setup: ${res.status}`);
  return `${DOCUMENT_ORIGIN}${setup.path}`;
}

/** A valid document for `clientId` (draft §4.1), with `extra` merged in (undefined removes a field). */
export function clientDocument(clientId: string, extra: Record<string, unknown> = {}): string {
  const doc: Record<string, unknown> = {
    client_id: clientId,
    client_name: "Acme MCP Client",
    client_uri: "https://acme.example",
    logo_uri: "https://acme.example/logo.png",
    redirect_uris: ["http://127.0.0.1/callback"],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...extra,
  };
  for (const key of Object.keys(doc)) if (doc[key] === undefined) delete doc[key];
  return JSON.stringify(doc);
}

/** Publishes a valid document (plus `extra`) at a fresh path; returns its client_id URL. */
export async function publishClient(
  name: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = { "Cache-Control": "max-age=600" },
): Promise<string> {
  const path = freshPath(name);
  const clientId = `${DOCUMENT_ORIGIN}${path}`;
  return publish({ path, body: clientDocument(clientId, extra), headers });
}

/** How often the document at `clientId` was fetched, and how many body bytes the server sent. */
export async function hits(clientId: string): Promise<{ hits: number; bytesSent: number }> {
  const path = new URL(clientId).pathname;
  return (await (await fetch(`${DOCUMENT_ORIGIN}/_hits?path=${encodeURIComponent(path)}`)).json()) as {
    hits: number;
    bytesSent: number;
  };
}
