/**
 * Who may use a settings page, as middleware: a signed-in person (else off to sign-in and back),
 * a valid CSRF token on every form post (else 403, nothing changed), and for the app and audit pages
 * a team admin (else a 403 page — hiding the links is not the protection, this is).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AdminActor } from "../../oauth/admin-apps";
import { formTooLarge, renderErrorPage } from "../../pages/render";
import { dbOf } from "../../store/db";
import { listMemberships } from "../../store/users";
import { type AppEnv, readPageForm } from "../context";
import type { FormFields } from "../form-fields";
import { type BrowserSession, currentSession, isCsrfValid } from "../session";

export type Membership = Awaited<ReturnType<typeof listMemberships>>[number];

/** The Hono environment of the settings routes: AppEnv plus what these middlewares establish. */
export interface SettingsEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & {
    session: BrowserSession;
    memberships: Membership[];
    /** Set by `teamAdmin`: the person acting on the teams they administer. */
    actor: AdminActor & { userId: string; teams: readonly string[] };
    /** Set by `checkedForm` on POST. */
    form: FormFields;
  };
}

export type SettingsContext = Context<SettingsEnv>;

export const isAdminOf = (memberships: Membership[]) => memberships.some((m) => m.role === "admin");

/** Signed out → /signin, coming back to this page (every form posts to the page it is on). */
export const signedIn: MiddlewareHandler<SettingsEnv> = async (c, next) => {
  const session = await currentSession(c);
  if (!session) {
    const url = new URL(c.req.url);
    const back = c.req.method === "GET" ? `${url.pathname}${url.search}` : url.pathname;
    return c.redirect(`/signin?return_to=${encodeURIComponent(back)}`, 303);
  }
  c.set("session", session);
  c.set("memberships", await listMemberships(dbOf(c.env.DB), session.user.id));
  await next();
};

export const teamAdmin: MiddlewareHandler<SettingsEnv> = async (c, next) => {
  const teams = c
    .get("memberships")
    .filter((m) => m.role === "admin")
    .map((m) => m.teamId);
  if (teams.length === 0) {
    return renderErrorPage(c, {
      title: "Only team admins can open this page",
      message:
        "OAuth applications, members and the audit log are managed by the admins of your team. Ask one of them for help.",
      status: 403,
    });
  }
  c.set("actor", { userId: c.get("session").user.id, teams });
  await next();
};

/**
 * A form post within the body limit (else a 413 page) carrying the CSRF token (double submit +
 * Origin, session.ts); else 403 and nothing changes.
 */
export const checkedForm: MiddlewareHandler<SettingsEnv> = async (c, next) => {
  const read = await readPageForm(c);
  if (!read.ok && read.status === 413) return formTooLarge(c);
  const form = read.ok ? read.form : undefined;
  if (!form || !isCsrfValid(c, form.get("csrf"))) {
    return renderErrorPage(c, {
      title: "Form expired",
      message:
        "This form could not be verified (it may be old, or sent from another site). Nothing was changed. Go back, reload the page and try again.",
      status: 403,
    });
  }
  c.set("form", form);
  await next();
};
