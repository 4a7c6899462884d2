/** GET /: the signed-in user's home; a signed-out visitor goes to the sign-in page. */
import type { Context } from "hono";
import { HomePage } from "../pages/home";
import { renderPage } from "../pages/render";
import { dbOf } from "../store/db";
import { listMemberships } from "../store/users";
import type { AppEnv } from "./context";
import { csrfToken, currentSession } from "./session";

export async function showHome(c: Context<AppEnv>) {
  const session = await currentSession(c);
  if (!session) return c.redirect("/signin", 302);
  const teams = await listMemberships(dbOf(c.env.DB), session.user.id);
  return renderPage(
    c,
    HomePage({
      email: session.user.email ?? "",
      name: session.user.name,
      teams,
      isAdmin: teams.some((t) => t.role === "admin"),
      csrf: csrfToken(c),
    }),
  );
}
