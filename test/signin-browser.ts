/**
 * A minimal browser for page tests: keeps cookies per origin, never follows redirects by itself,
 * and sends requests to the worker under test (app.fetch with a chosen env) or, for other origins,
 * over the real network (the test upstream on 127.0.0.1).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../src/app";
import type { Env } from "../src/config";
import { ORIGIN } from "./helpers";

export class TestBrowser {
  /** origin → cookie name → value */
  private readonly jar = new Map<string, Map<string, string>>();

  constructor(private readonly workerEnv: Env = env) {}

  cookie(name: string, origin = ORIGIN): string | undefined {
    return this.jar.get(origin)?.get(name);
  }

  setCookie(name: string, value: string, origin = ORIGIN): void {
    const cookies = this.jar.get(origin) ?? new Map<string, string>();
    cookies.set(name, value);
    this.jar.set(origin, cookies);
  }

  /** A path is on the worker; an absolute URL may be anywhere. */
  async fetch(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const url = new URL(pathOrUrl, ORIGIN);
    const headers = new Headers(init.headers);
    const cookies = this.jar.get(url.origin);
    if (cookies?.size) headers.set("Cookie", [...cookies].map(([n, v]) => `${n}=${v}`).join("; "));
    const request = new Request(url, { ...init, headers, redirect: "manual" });
    const res = url.origin === ORIGIN ? await this.worker(request) : await fetch(request);
    this.remember(url.origin, res);
    return res;
  }

  /** POST a urlencoded form to the worker. */
  post(path: string, fields: Record<string, string | string[]>, headers: Record<string, string> = {}) {
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v);
    return this.fetch(path, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/x-www-form-urlencoded", ...headers },
    });
  }

  /** As the platform runs it: with an execution context whose waitUntil work finishes before we go on. */
  private async worker(request: Request): Promise<Response> {
    const ctx = createExecutionContext();
    const res = await app.fetch(request, this.workerEnv, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  }

  private remember(origin: string, res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const [pair = "", ...attributes] = header.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === "";
      const cookies = this.jar.get(origin) ?? new Map<string, string>();
      if (expired) cookies.delete(name);
      else cookies.set(name, value);
      this.jar.set(origin, cookies);
    }
  }
}

/** The value of the hidden form field `name` in a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} in page`);
  return match[1];
}
