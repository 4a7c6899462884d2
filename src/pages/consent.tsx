/**
 * The consent page the authorization endpoint renders: who is asking, where the answer goes, and
 * each requested scope in plain words, with the ones the user's role cannot grant shown disabled.
 * Everything here comes from clients or users and is escaped by hono/jsx; nothing is raw HTML.
 */
import { Layout } from "./layout";

export interface ConsentScope {
  scope: string;
  /** describeScope(scope) from src/oauth/scopes.ts. */
  description: string;
  /** False when the user's role ceiling does not include it: shown disabled, never submitted. */
  grantable: boolean;
  previouslyGranted: boolean;
}

export interface ConsentPageProps {
  clientName: string;
  clientId: string;
  clientOrigin: "registered" | "admin" | "metadata_document";
  /** Host (and port) of the redirect URI this answer will be sent to (none for a device). */
  redirectHost: string;
  /** Set when a device asked (RFC 8628 §3.3): the user code the person typed, shown XXXX-XXXX. */
  deviceUserCode?: string;
  /** Every redirect URI of the client is loopback: the app runs on the user's own machine. */
  localhostOnlyRedirect: boolean;
  /** Shown only when it is an https URL (CSP img-src). */
  logoUri?: string;
  userEmail: string;
  teamName: string;
  scopes: ConsentScope[];
  /** Where the form posts (the authorization endpoint). */
  action: string;
  /** Authorization request parameters and the request id, posted back unchanged. */
  hidden: Record<string, string>;
  csrf: string;
}

function httpsLogo(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  try {
    return new URL(uri).protocol === "https:" ? uri : undefined;
  } catch {
    return undefined;
  }
}

export function ConsentPage(props: ConsentPageProps) {
  const logo = httpsLogo(props.logoUri);
  const ungrantable = props.scopes.some((s) => !s.grantable);
  return (
    <Layout title={`Allow ${props.clientName}?`}>
      <div class="client">
        {logo ? <img src={logo} alt="" width={48} height={48} /> : null}
        <h1>
          Allow <strong>{props.clientName}</strong> to access your account?
        </h1>
      </div>
      <p>
        You are signed in as <strong>{props.userEmail}</strong> in the team <strong>{props.teamName}</strong>.
        {props.deviceUserCode ? null : (
          <>
            {" "}
            After you decide, you will be sent to <strong class="break">{props.redirectHost}</strong>.
          </>
        )}
      </p>
      {props.deviceUserCode ? <DeviceNotice userCode={props.deviceUserCode} /> : null}
      <Warnings {...props} />
      <form method="post" action={props.action}>
        {Object.entries(props.hidden).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <input type="hidden" name="csrf" value={props.csrf} />
        <fieldset>
          <legend>{props.clientName} will be able to:</legend>
          <ul class="scopes">
            {props.scopes.map((s, i) => (
              <ScopeItem scope={s} index={i} />
            ))}
          </ul>
        </fieldset>
        {ungrantable ? (
          <p class="muted">
            Permissions your role cannot grant are shown greyed out; the app will not get them. Untick anything you do
            not want to allow.
          </p>
        ) : (
          <p class="muted">Untick anything you do not want to allow.</p>
        )}
        <div class="actions">
          <button type="submit" name="decision" value="approve" class="primary">
            Allow
          </button>
          <button type="submit" name="decision" value="deny">
            Deny
          </button>
        </div>
      </form>
    </Layout>
  );
}

function ScopeItem(props: { scope: ConsentScope; index: number }) {
  const { scope, grantable, previouslyGranted, description } = props.scope;
  const id = `scope-${props.index}`;
  return (
    <li class={grantable ? undefined : "ungrantable"}>
      <input
        type="checkbox"
        id={id}
        name="scope"
        value={scope}
        checked={grantable}
        disabled={!grantable}
        aria-describedby={grantable ? undefined : `${id}-why`}
      />
      <label for={id}>
        {description} <code>{scope}</code>
        {previouslyGranted ? <span class="tag">allowed before</span> : null}
        {grantable ? null : (
          <span id={`${id}-why`} class="muted">
            {" "}
            — your role does not allow this
          </span>
        )}
      </label>
    </li>
  );
}

function Warnings(props: ConsentPageProps) {
  return (
    <>
      {props.localhostOnlyRedirect ? (
        <p class="notice" role="note">
          This app runs on your own computer: the answer goes to <strong class="break">{props.redirectHost}</strong>.
          Only allow it if you started this app yourself just now.
        </p>
      ) : null}
      {props.clientOrigin === "registered" ? (
        <p class="notice" role="note">
          This app registered itself. Nobody at your organization has checked who made it or that its name is true. Only
          allow it if you trust it.
        </p>
      ) : null}
      {props.clientOrigin === "metadata_document" ? (
        <p class="notice" role="note">
          This app is identified by the web address <strong class="break">{props.clientId}</strong>; its name is chosen
          by whoever controls that address. Only allow it if you trust it.
        </p>
      ) : null}
    </>
  );
}

/** RFC 8628 §5.4: say plainly that a device asked, and show its code, so a phished code stands out. */
function DeviceNotice(props: { userCode: string }) {
  return (
    <p class="notice" role="note">
      A device asked for this: a TV, a command-line tool or another app without its own browser showed you the code{" "}
      <strong class="user-code">{props.userCode}</strong>. Only allow it if you started that device's sign-in yourself
      just now and it shows this same code. After you decide, go back to the device.
    </p>
  );
}
