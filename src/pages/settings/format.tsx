/** Plain words and small pieces shared by the settings pages: times, app kinds, scope summaries. */
import type { AppType } from "../../oauth/admin-apps";
import { describeScope, IR_SCOPES, isOidcScope, OC_SCOPES, sortScopes } from "../../oauth/scopes";

/** A moment as a <time> element: ISO in the attribute, "2025-11-25 13:37 UTC" to read. */
export function Moment(props: { at: number | null | undefined; never?: string }) {
  if (!props.at) return <span class="muted">{props.never ?? "Never"}</span>;
  const iso = new Date(props.at).toISOString();
  return <time datetime={iso}>{`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}</time>;
}

export const APP_TYPE_LABELS: Record<AppType, { name: string; explanation: string }> = {
  public: {
    name: "Public app",
    explanation: "Runs on people's phones or computers, or in the browser. It has no secret; people sign in to use it.",
  },
  confidential: {
    name: "Server app",
    explanation: "Runs on a server you control and keeps a secret there. People sign in to use it.",
  },
  client_credentials: {
    name: "Service (no person signs in)",
    explanation:
      "A script or server that acts for itself, not for a person, with exactly the permissions you give it. It has a secret.",
  },
};

export const ORIGIN_LABELS: Record<"registered" | "metadata_document", string> = {
  registered: "Registered itself",
  metadata_document: "Identified by its web address",
};

/** "Sign-in: openid, email · Incident response: 3 of 30 · On-call: all 16", then every scope on demand. */
export function ScopeSummary(props: { scopes: readonly string[] }) {
  const scopes = sortScopes(props.scopes);
  const oidc = scopes.filter(isOidcScope);
  const count = (area: readonly string[]) => {
    const held = scopes.filter((s) => area.includes(s)).length;
    return held === area.length ? `all ${held}` : `${held} of ${area.length}`;
  };
  const parts = [
    ...(oidc.length > 0 ? [`Sign-in: ${oidc.join(", ")}`] : []),
    `Incident response: ${count(IR_SCOPES)}`,
    `On-call: ${count(OC_SCOPES)}`,
  ];
  return (
    <>
      <span>{parts.join(" · ")}</span>
      {scopes.length > 0 ? (
        <details>
          <summary>Show each permission</summary>
          <ul class="plain">
            {scopes.map((s) => (
              <li>
                {describeScope(s)} <code>{s}</code>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </>
  );
}
