/**
 * A client's redirect URI that really listens: a tiny HTTP server on 127.0.0.1 (a native app's
 * loopback redirect, RFC 8252 §7.3) that records every request and answers "callback received".
 * Browser interception cannot stand in for it: Playwright does not intercept the target of a
 * redirect, and the authorization response is always one.
 *
 *   const callback = await startCallbackServer();
 *   // register the client with callback.redirectUri, send the browser to /oauth/authorize …
 *   const url = await callback.next(); // url.searchParams.get("code"), "state", "iss"
 *   await callback.close();
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface CallbackServer {
  /** http://127.0.0.1:<port><path> */
  redirectUri: string;
  /** The next request the server receives (or one already received and not yet taken), as a full URL. */
  next(timeoutMs?: number): Promise<URL>;
  close(): Promise<void>;
}

export async function startCallbackServer(path = "/callback"): Promise<CallbackServer> {
  const received: URL[] = [];
  const waiting: ((url: URL) => void)[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    // Only the redirect itself counts: the browser's own requests (favicon…) must not be taken for it.
    if (url.pathname !== path) {
      res.writeHead(404).end();
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter(url);
    else received.push(url);
    res
      .writeHead(200, { "content-type": "text/html" })
      .end("<!doctype html><title>callback</title><p>callback received</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}${path}`,
    next(timeoutMs = 30_000) {
      const ready = received.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise<URL>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no request to the callback within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiting.push((url) => {
          clearTimeout(timer);
          resolve(url);
        });
      });
    },
    close() {
      server.closeAllConnections(); // browsers keep idle keep-alive sockets open
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
