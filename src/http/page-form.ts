/**
 * A page form as every page route reads it: the one body reader and its limit (context.ts), then
 * the CSRF check (session.ts). A failure is a page (413, 400 or 403), never JSON, and changes nothing.
 */
import type { Context } from "hono";
import { formTooLarge, renderErrorPage } from "../pages/render";
import { type AppEnv, readPageForm } from "./context";
import type { FormFields } from "./form-fields";
import { isCsrfValid } from "./session";

type PageContext = Context<AppEnv>;

/** The page for a form whose CSRF token does not verify. */
export const formExpired = (c: PageContext) =>
  renderErrorPage(c, {
    title: "Form expired",
    message:
      "This form could not be verified (it may be old, or sent from another site). Go back, reload and try again.",
    status: 403,
  });

const badForm = (c: PageContext) =>
  renderErrorPage(c, { title: "Bad request", message: "The form could not be read.", status: 400 });

/** A posted form with a valid CSRF token, or the error page to answer instead. */
export async function checkedPageForm(
  c: PageContext,
): Promise<{ ok: true; form: FormFields } | { ok: false; page: Response }> {
  const read = await readPageForm(c);
  if (!read.ok) return { ok: false, page: read.status === 413 ? formTooLarge(c) : badForm(c) };
  if (!isCsrfValid(c, read.form.get("csrf"))) return { ok: false, page: formExpired(c) };
  return read;
}
