/**
 * A real HTTP(S) server on 127.0.0.1 that publishes Client ID Metadata Documents for the tests
 * (Node side). Tests running inside workerd configure it over loopback HTTP:
 *   POST /_setup   {path, body?, status?, headers?, delayMs?, endless?} → serve that at `path`
 *   GET  /_hits?path=/x                                                 → {hits, bytesSent}
 * Every other GET serves what was set up (404 otherwise) and counts the request, so a test can
 * prove a document was fetched once (caching) or never (SSRF checks refuse before any traffic).
 * In a body, the text {{origin}} is replaced by the server's own origin (documents name their URL).
 */
import { once } from "node:events";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface DocumentSetup {
  path: string;
  body?: string;
  status?: number;
  headers?: Record<string, string>;
  /** Wait this long before answering (timeouts). */
  delayMs?: number;
  /** Stream JSON-looking bytes until the client goes away (size cap without Content-Length). */
  endless?: boolean;
}

export interface RunningDocumentServer {
  origin: string;
  /** In-process setup, for Node-side tests (e2e): the same as POST /_setup. */
  publish(setup: DocumentSetup): string;
  hits(path: string): { hits: number; bytesSent: number };
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function startDocumentServer(tls?: { key: string; cert: string }): Promise<RunningDocumentServer> {
  const documents = new Map<string, DocumentSetup>();
  const hits = new Map<string, { hits: number; bytesSent: number }>();
  let origin = "";

  function serveEndless(res: ServerResponse, stats: { bytesSent: number }): void {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.write('{"padding":"');
    const chunk = "x".repeat(1024);
    const timer = setInterval(() => {
      // Stops once the reader hangs up; the cap is at most a few KB past what the worker read.
      if (res.destroyed || stats.bytesSent > 10 * 1024 * 1024) {
        clearInterval(timer);
        res.destroy();
        return;
      }
      stats.bytesSent += chunk.length;
      res.write(chunk);
    }, 2);
    res.on("close", () => clearInterval(timer));
  }

  function publish(setup: DocumentSetup): string {
    documents.set(setup.path, setup);
    hits.set(setup.path, { hits: 0, bytesSent: 0 });
    return `${origin}${setup.path}`;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", origin);
    if (req.method === "POST" && url.pathname === "/_setup") {
      publish(JSON.parse(await readBody(req)) as DocumentSetup);
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === "/_hits") {
      const stats = hits.get(url.searchParams.get("path") ?? "") ?? { hits: 0, bytesSent: 0 };
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(stats));
      return;
    }
    const stats = hits.get(url.pathname) ?? { hits: 0, bytesSent: 0 };
    stats.hits += 1;
    hits.set(url.pathname, stats);
    const doc = documents.get(url.pathname);
    if (!doc) {
      res.writeHead(404, { "Content-Type": "application/json" }).end('{"error":"not found"}');
      return;
    }
    if (doc.delayMs) await new Promise((r) => setTimeout(r, doc.delayMs));
    if (res.destroyed) return;
    if (doc.endless) return serveEndless(res, stats);
    const body = (doc.body ?? "").replaceAll("{{origin}}", origin);
    stats.bytesSent += Buffer.byteLength(body);
    res.writeHead(doc.status ?? 200, { "Content-Type": "application/json", ...doc.headers }).end(body);
  }

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server = tls ? createHttpsServer(tls, listener) : createHttpServer(listener);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  origin = `${tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    publish,
    hits: (path) => ({ ...(hits.get(path) ?? { hits: 0, bytesSent: 0 }) }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
