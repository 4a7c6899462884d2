/**
 * The permissions of an app as checkboxes, grouped by area (sign-in, incident response, on-call),
 * each in plain words (describeScope) with its scope name. Each area has a shortcut box for its meta
 * scope (`ir.all`, `oc.all`), which the server expands to every scope of the area.
 */
import { describeScope, IR_SCOPES, OC_SCOPES, OIDC_SCOPES } from "../../oauth/scopes";

interface Area {
  id: string;
  legend: string;
  hint: string;
  scopes: readonly string[];
  /** The meta scope that stands for the whole area, if there is one. */
  everything?: { scope: string; label: string };
}

const AREAS: Area[] = [
  {
    id: "signin",
    legend: "Sign-in and profile",
    hint: "Lets the app learn who the person using it is.",
    scopes: OIDC_SCOPES,
  },
  {
    id: "ir",
    legend: "Incident response",
    hint: "Incidents and how they are run.",
    scopes: IR_SCOPES,
    everything: { scope: "ir.all", label: "Every incident response permission below" },
  },
  {
    id: "oc",
    legend: "On-call",
    hint: "Alerts, schedules and who is paged.",
    scopes: OC_SCOPES,
    everything: { scope: "oc.all", label: "Every on-call permission below" },
  },
];

export interface ScopePickerProps {
  selected: ReadonlySet<string>;
  /** A service app acts for no person: it gets no sign-in scopes. */
  service: boolean;
}

export function ScopePicker(props: ScopePickerProps) {
  const areas = props.service ? AREAS.filter((a) => a.id !== "signin") : AREAS;
  return (
    <fieldset aria-describedby="scopes-hint">
      <legend>Permissions</legend>
      <p id="scopes-hint" class="field-hint">
        {props.service
          ? "The service can do exactly what you tick here, nothing more."
          : "The most the app may ask for. Each person still decides on the consent screen, and nobody can give more than their own role allows."}
      </p>
      {areas.map((area) => (
        <fieldset class="area" aria-describedby={`area-${area.id}-hint`}>
          <legend>{area.legend}</legend>
          <p id={`area-${area.id}-hint`} class="field-hint">
            {area.hint}
          </p>
          {area.everything ? (
            <div class="check everything">
              <input
                type="checkbox"
                id={`scope-${area.everything.scope}`}
                name="scope"
                value={area.everything.scope}
                checked={props.selected.has(area.everything.scope)}
              />
              <label for={`scope-${area.everything.scope}`}>
                {area.everything.label} <code>{area.everything.scope}</code>
              </label>
            </div>
          ) : null}
          <ul class="scope-grid">
            {area.scopes.map((scope) => (
              <li>
                <input
                  type="checkbox"
                  id={`scope-${scope}`}
                  name="scope"
                  value={scope}
                  checked={props.selected.has(scope)}
                />
                <label for={`scope-${scope}`}>
                  {describeScope(scope)} <code>{scope}</code>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
      ))}
    </fieldset>
  );
}
