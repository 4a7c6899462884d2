/** Home of a signed-in user: who they are, their team and roles, where to go, and sign-out. */
import { Layout } from "./layout";

export interface HomePageProps {
  email: string;
  name: string | null;
  teams: { teamName: string; role: string; onCallRole: string }[];
  /** Admin of at least one team: links to the app and audit administration. */
  isAdmin: boolean;
  csrf: string;
}

export function HomePage(props: HomePageProps) {
  return (
    <Layout title="Your account">
      <h1>{props.name ? `Hello, ${props.name}` : "Your account"}</h1>
      <dl class="facts">
        <dt>Email</dt>
        <dd>{props.email}</dd>
        {props.teams.map((t) => (
          <>
            <dt>Team</dt>
            <dd>
              {t.teamName}{" "}
              <span class="muted">
                (incident response: {t.role}, on-call: {t.onCallRole})
              </span>
            </dd>
          </>
        ))}
      </dl>
      <nav aria-label="Account">
        <ul>
          <li>
            <a href="/settings/connected-apps">Apps you have connected</a>
          </li>
          {props.isAdmin ? (
            <>
              <li>
                <a href="/settings/oauth-applications">OAuth applications of your team</a>
              </li>
              <li>
                <a href="/settings/audit">Audit log</a>
              </li>
            </>
          ) : null}
        </ul>
      </nav>
      <form method="post" action="/signout">
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit">Sign out</button>
      </form>
      <form method="post" action="/signout/everywhere">
        <input type="hidden" name="csrf" value={props.csrf} />
        <p class="field-hint">Ends your sessions in every browser. Apps you connected keep their access.</p>
        <button type="submit">Sign out everywhere</button>
      </form>
    </Layout>
  );
}
