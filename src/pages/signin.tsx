/**
 * The sign-in page: "Sign in with <upstream>" when an upstream is configured, the dev form when dev
 * sign-in is on, and a "continue" link when the visitor is already signed in (no redirect loops).
 */
import { Layout } from "./layout";

export interface SignInPageProps {
  /** Already validated same-origin path to go back to after sign-in. */
  returnTo: string;
  /** Prefills the dev email and is passed on to the upstream. */
  loginHint?: string;
  /** prompt=login: the upstream is asked to authenticate again too. */
  forceLogin: boolean;
  /** "Google", "Microsoft", or the upstream's host; absent when no upstream is configured. */
  upstreamName?: string;
  devSignIn: boolean;
  csrf: string;
  /** Email of the current session, when there is one and re-authentication is not required. */
  signedInAs?: string;
  /** A problem with the last attempt, shown above the form. */
  error?: string;
  /** What the visitor typed last time (after an error). */
  name?: string;
}

function upstreamHref(props: SignInPageProps): string {
  const query = new URLSearchParams({ return_to: props.returnTo });
  if (props.loginHint) query.set("login_hint", props.loginHint);
  if (props.forceLogin) query.set("prompt", "login");
  return `/signin/upstream?${query}`;
}

export function SignInPage(props: SignInPageProps) {
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.forceLogin ? <p>The app you came from asks you to sign in again.</p> : null}
      {props.signedInAs ? (
        <>
          <p>
            You are signed in as <strong>{props.signedInAs}</strong>.
          </p>
          <a class="button primary block" href={props.returnTo}>
            Continue as {props.signedInAs}
          </a>
          <p class="divider">or sign in as someone else</p>
        </>
      ) : null}
      {props.upstreamName ? (
        <a class={`button block${props.signedInAs ? "" : " primary"}`} href={upstreamHref(props)}>
          Sign in with {props.upstreamName}
        </a>
      ) : null}
      {props.devSignIn ? <DevSignInForm {...props} /> : null}
      {!props.upstreamName && !props.devSignIn ? (
        <p class="notice">
          No sign-in method is configured on this server. The operator needs to set UPSTREAM_ISSUER, UPSTREAM_CLIENT_ID
          and UPSTREAM_CLIENT_SECRET.
        </p>
      ) : null}
    </Layout>
  );
}

function DevSignInForm(props: SignInPageProps) {
  return (
    <form method="post" action="/signin/dev">
      <h2>Development sign-in</h2>
      <p class="muted">
        Only on a local server: type any email. Known users sign in as themselves; a new email joins the Demo team as a
        member.
      </p>
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="return_to" value={props.returnTo} />
      <label for="email">Email</label>
      <input
        id="email"
        name="email"
        type="email"
        required
        maxlength={254}
        autocomplete="email"
        value={props.loginHint ?? ""}
        autofocus={!props.upstreamName && !props.signedInAs}
      />
      <label for="name">
        Name <span class="muted">(optional)</span>
      </label>
      <input id="name" name="name" type="text" maxlength={100} autocomplete="name" value={props.name ?? ""} />
      <button type="submit" class={`block${props.upstreamName || props.signedInAs ? "" : " primary"}`}>
        Sign in
      </button>
    </form>
  );
}
