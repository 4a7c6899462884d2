/**
 * The pages of the device authorization grant for people (RFC 8628 §3.3): typing the code a device
 * shows, and the answer after the consent page. The consent itself is the authorization
 * endpoint's ConsentPage.
 */
import { Layout } from "./layout";

export interface DeviceCodePageProps {
  /** What to prefill: the code from verification_uri_complete, or what was typed last time. */
  code?: string;
  userEmail: string;
  csrf: string;
  /** A problem with the last attempt (unknown code, too many attempts). */
  error?: string;
}

export function DeviceCodePage(props: DeviceCodePageProps) {
  return (
    <Layout title="Connect a device">
      <h1>Connect a device</h1>
      {props.error ? (
        <p class="notice error" role="alert" id="code-error">
          {props.error}
        </p>
      ) : null}
      <p>
        Type the code your TV, command-line tool or other device shows. You are signed in as{" "}
        <strong>{props.userEmail}</strong>.
      </p>
      <form method="post" action="/device">
        <input type="hidden" name="csrf" value={props.csrf} />
        <label for="user-code">Code</label>
        <p id="user-code-hint" class="field-hint">
          Eight letters and digits, like ABCD-EFGH. The dash is optional.
        </p>
        <input
          type="text"
          id="user-code"
          name="user_code"
          class="user-code"
          value={props.code ?? ""}
          required
          maxlength={20}
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          autofocus
          aria-describedby={props.error ? "user-code-hint code-error" : "user-code-hint"}
          aria-invalid={props.error ? "true" : undefined}
        />
        <button type="submit" class="primary block">
          Continue
        </button>
      </form>
    </Layout>
  );
}

export function DeviceAnsweredPage(props: { clientName: string; approved: boolean }) {
  const title = props.approved ? "Device connected" : "Access denied";
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      {props.approved ? (
        <p class="notice success" role="status">
          <strong>{props.clientName}</strong> can now use your account on that device. Go back to the device: it
          continues by itself within a few seconds.
        </p>
      ) : (
        <p class="notice" role="status">
          <strong>{props.clientName}</strong> did not get access. The device will say that you denied it.
        </p>
      )}
      <p>
        You can close this page. <a href="/settings/connected-apps">See your connected apps</a>.
      </p>
    </Layout>
  );
}
