/**
 * The one time a client secret is shown (after create or reset). It is in a readonly field that can
 * be selected without JavaScript; a copy button appears only when the tiny script below may run (its
 * nonce is in this response's CSP). "Download as JSON" is a data: URL built here, so the secret is
 * never sent again or stored.
 */
import { raw } from "hono/html";
import { appPath } from "./app-list";
import { SettingsFrame } from "./frame";

export interface AppCredentialsPageProps {
  heading: string;
  appName: string;
  clientId: string;
  /** Absent for a public app: nothing secret to show. */
  clientSecret?: string;
  /** The credentials file offered for download (contains the secret). */
  download: Record<string, unknown>;
  /** CSP nonce of the copy script. */
  nonce: string;
}

/** Reveals the copy buttons and copies the field each one names; a failure selects the text instead. */
const COPY_SCRIPT = `
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-status");
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Copied.";
    } catch {
      field.select();
      status.textContent = "Press Ctrl+C (or ⌘C) to copy.";
    }
  });
}`;

function CopyField(props: { id: string; label: string; value: string; hint?: string }) {
  return (
    <>
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p id={`${props.id}-hint`} class="field-hint">
          {props.hint}
        </p>
      ) : null}
      <div class="copy-row">
        <input
          type="text"
          id={props.id}
          value={props.value}
          readonly
          spellcheck={false}
          autocomplete="off"
          aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        />
        <button type="button" data-copy={props.id} hidden>
          Copy
        </button>
      </div>
      <p id={`${props.id}-status`} class="field-hint" role="status" />
    </>
  );
}

export function AppCredentialsPage(props: AppCredentialsPageProps) {
  const file = `data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify(props.download, null, 2))}`;
  return (
    <SettingsFrame title={props.heading} section="oauth-applications" isAdmin>
      <h1>{props.heading}</h1>
      {props.clientSecret ? (
        <p class="notice" role="note">
          <strong>This is the only time the secret is shown.</strong> Copy it now into the app's configuration or a
          password manager. Nobody can show it again — not even us; if it is lost, reset it.
        </p>
      ) : null}
      <p>
        <strong>{props.appName}</strong> uses these to identify itself to this server.
      </p>
      <CopyField id="client-id" label="Client ID" value={props.clientId} />
      {props.clientSecret ? (
        <CopyField
          id="client-secret"
          label="Client secret"
          value={props.clientSecret}
          hint="Keep it secret: anyone who has it can act as this app."
        />
      ) : null}
      <p>
        <a href={file} download={`${props.clientId}.json`} class="button">
          Download as JSON
        </a>
      </p>
      <div class="actions">
        <a class="button primary" href={appPath(props.clientId)}>
          {props.clientSecret ? "I have saved the secret" : "Continue"}
        </a>
      </div>
      <script nonce={props.nonce}>{raw(COPY_SCRIPT)}</script>
    </SettingsFrame>
  );
}
