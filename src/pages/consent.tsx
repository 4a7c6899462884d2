/**
 * The consent page the authorization endpoint renders: who is asking, where the answer goes, and
 * the requested scopes grouped by area (scope-groups.ts), each area one line with its access level
 * and every permission behind a <details>; what the user's role cannot grant is said once per area.
 * It works without JavaScript. Everything here comes from clients or users and is escaped by
 * hono/jsx; nothing is raw HTML.
 */
import {
  type AreaId,
  CONSENT_AREA_FIELD,
  CONSENT_SCOPE_FIELD,
  groupScopes,
  listWords,
  resourceName,
  type ScopeGroup,
  splitScope,
} from "../oauth/scope-groups";
import { describeScope } from "../oauth/scopes";
import { Layout } from "./layout";
import { ScopeRows } from "./scope-areas";

export interface ConsentScope {
  scope: string;
  /** describeScope(scope) from src/oauth/scopes.ts (consentScopes fills it). */
  description: string;
  /** False when the user's role ceiling does not include it: named once in its area, never offered. */
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
  /** The person's roles in the team, to say why a scope cannot be granted. */
  roles: { role: string; onCallRole: string };
  /** Where the form posts (the authorization endpoint). */
  action: string;
  /** Authorization request parameters and the request id, posted back unchanged. */
  hidden: Record<string, string>;
  csrf: string;
}

/** Each requested scope as the page lists it (the authorization endpoint's consent and the device's). */
export function consentScopes(
  requested: readonly string[],
  grantable: ReadonlySet<string>,
  consented: ReadonlySet<string>,
): ConsentScope[] {
  return requested.map((scope) => ({
    scope,
    description: describeScope(scope),
    grantable: grantable.has(scope),
    previouslyGranted: consented.has(scope),
  }));
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
  const ceiling = new Set(props.scopes.filter((s) => s.grantable).map((s) => s.scope));
  const previously = new Set(props.scopes.filter((s) => s.previouslyGranted).map((s) => s.scope));
  const descriptions = new Map(props.scopes.map((s) => [s.scope, s.description]));
  const groups = groupScopes(
    props.scopes.map((s) => s.scope),
    ceiling,
  );
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
          {groups.map((group) => (
            <AreaGroup group={group} previously={previously} descriptions={descriptions} roles={props.roles} />
          ))}
        </fieldset>
        <p class="muted">Untick an area to refuse all of it, or open it to choose each permission.</p>
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

/** The role that decides an area's scopes. */
function roleOf(area: AreaId, roles: ConsentPageProps["roles"]): string {
  if (area === "ir") return `Your incident response role (${roles.role})`;
  if (area === "oc") return `Your on-call role (${roles.onCallRole})`;
  return "Your account";
}

/** "view schedules and change services, environments and catalogs", for the ungrantable note. */
function ungrantablePhrase(scopes: readonly string[]): string {
  const parts = (["view", "change"] as const).flatMap((access) => {
    const names = scopes.flatMap((s) => {
      const split = splitScope(s);
      return split?.access === access ? [resourceName(split.resource)] : [];
    });
    return names.length > 0 ? [`${access} ${listWords(names)}`] : [];
  });
  const other = scopes.filter((s) => !splitScope(s));
  return listWords([...parts, ...other]);
}

/**
 * One area: its switch (the `area` box, ticked), a one-line summary with the access level, and
 * every permission in a <details> with its own `scope` box. scope-groups.ts says how the server
 * reads the two kinds of box.
 */
function AreaGroup(props: {
  group: ScopeGroup;
  previously: ReadonlySet<string>;
  descriptions: ReadonlyMap<string, string>;
  roles: ConsentPageProps["roles"];
}) {
  const { area, rows, ungrantable, level, summary, scopes } = props.group;
  const id = `area-${area.id}`;
  const offered = scopes.length > 0;
  return (
    <fieldset class="scope-area" id={`${id}-group`} aria-labelledby={`${id}-title`}>
      <div class="area-head">
        {offered ? (
          <input
            type="checkbox"
            class="area-switch"
            id={id}
            name={CONSENT_AREA_FIELD}
            value={area.id}
            checked
            aria-describedby={`${id}-summary`}
          />
        ) : null}
        <label for={offered ? id : undefined} id={`${id}-title`}>
          {area.title}
          {level ? <span class="tag">{level}</span> : null}
        </label>
      </div>
      {offered ? (
        <details>
          {/* The summary line is the disclosure: one line per area when collapsed. */}
          <summary>
            <span class="area-summary" id={`${id}-summary`}>
              {summary}
              <span class="area-off"> — refused: the app gets nothing of this area</span>
            </span>
            <span class="choose"> · choose each</span>
          </summary>
          <ScopeRows
            area={area.id}
            rows={rows}
            name={CONSENT_SCOPE_FIELD}
            checked={() => true}
            describe={(scope) => props.descriptions.get(scope) ?? scope}
            note={(row) =>
              [row.view, row.change].some((s) => s !== undefined && props.previously.has(s)) ? (
                <span class="tag">allowed before</span>
              ) : null
            }
          />
        </details>
      ) : (
        <p class="area-summary" id={`${id}-summary`}>
          {summary}
        </p>
      )}
      {ungrantable.length > 0 ? (
        <p class="ungrantable" id={`${id}-why`}>
          {roleOf(area.id, props.roles)} cannot {ungrantablePhrase(ungrantable)}: the app will not get that.
        </p>
      ) : null}
    </fieldset>
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
