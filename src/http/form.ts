/**
 * Reading form-encoded request bodies for the machine endpoints: size-capped before parsing,
 * content type enforced, and repeated parameters refused (RFC 6749 §3.1, §3.2: parameters MUST NOT
 * be included more than once).
 */
import type { Context } from "hono";
import { MAX_BODY_BYTES } from "../limits";
import { OAuthError } from "../oauth/errors";
import { readAtMost } from "../platform/bounded-read";
import { decodeUtf8 } from "../platform/utf8";
import type { AppEnv } from "./context";

export async function readBoundedText(c: Context<AppEnv>, maxBytes: number): Promise<string> {
  const header = c.req.header("Content-Length");
  const declared = header !== undefined && /^\d{1,9}$/.test(header) ? Number(header) : undefined;
  if (declared !== undefined && declared > maxBytes) {
    throw new OAuthError("invalid_request", "request body is too large", { status: 413 });
  }
  const bytes = await readAtMost(c.req.raw, maxBytes, declared);
  if (bytes === "too_large") throw new OAuthError("invalid_request", "request body is too large", { status: 413 });
  const text = decodeUtf8(bytes);
  if (text === undefined) throw new OAuthError("invalid_request", "request body is not valid UTF-8");
  return text;
}

/** Parses `application/x-www-form-urlencoded`; no repeated or empty-named parameters. */
export function parseForm(text: string): Record<string, string> {
  const params = new URLSearchParams(text);
  const form: Record<string, string> = Object.create(null);
  for (const [name, value] of params) {
    if (name in form) throw new OAuthError("invalid_request", `parameter ${name.slice(0, 40)} is repeated`);
    form[name] = value;
  }
  return form;
}

export async function readForm(c: Context<AppEnv>): Promise<Record<string, string>> {
  const type = c.req.header("Content-Type") ?? "";
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded");
  }
  return parseForm(await readBoundedText(c, MAX_BODY_BYTES));
}
