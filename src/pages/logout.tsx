/**
 * The pages of RP-Initiated Logout 1.0: "sign out?" when the request cannot be verified as coming
 * from the app that holds the session (§3), and "you are signed out" when no app asked to take the
 * person back.
 */
import { Layout } from "./layout";

export interface LogoutConfirmPageProps {
  userEmail: string;
  /** The app that asked, when it named itself. */
  clientName?: string;
  action: string;
  /** The logout request's parameters, posted back unchanged. */
  hidden: Record<string, string>;
  csrf: string;
}

export function LogoutConfirmPage(props: LogoutConfirmPageProps) {
  return (
    <Layout title="Sign out?">
      <h1>Sign out?</h1>
      <p>
        {props.clientName ? (
          <>
            <strong>{props.clientName}</strong> asks to sign you out.
          </>
        ) : (
          "An app asks to sign you out."
        )}{" "}
        You are signed in as <strong>{props.userEmail}</strong>. Signing out here ends your session in this browser;
        apps you allowed keep their access.
      </p>
      <form method="post" action={props.action}>
        {Object.entries(props.hidden).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="csrf" value={props.csrf} />
        <div class="actions">
          <button type="submit" name="confirm" value="yes" class="primary">
            Sign out
          </button>
          <a class="button" href="/">
            Stay signed in
          </a>
        </div>
      </form>
    </Layout>
  );
}

export function SignedOutPage() {
  return (
    <Layout title="Signed out">
      <h1>You are signed out</h1>
      <p class="notice success" role="status">
        Your session in this browser has ended.
      </p>
      <p>
        <a href="/signin">Sign in again</a>
      </p>
    </Layout>
  );
}
