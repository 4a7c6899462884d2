/**
 * The permissions of an app as checkboxes, grouped by area as on the consent page
 * (src/oauth/scope-groups.ts): each area says what is chosen in one line, its rows (a view and a
 * change box per resource) sit in a <details>, and its shortcut box is the area's meta scope
 * (`ir.all`, `oc.all`), which the server expands to every scope of the area.
 */
import { type AreaId, groupScopes, SCOPE_AREAS } from "../../oauth/scope-groups";
import { ScopeRows } from "../scope-areas";

const HINTS: Record<AreaId, string> = {
  signin: "Lets the app learn who the person using it is.",
  ir: "Incidents and how they are run.",
  oc: "Alerts, schedules and who is paged.",
};

export interface ScopePickerProps {
  selected: ReadonlySet<string>;
  /** A service app acts for no person: it gets no sign-in scopes. */
  service: boolean;
}

export function ScopePicker(props: ScopePickerProps) {
  const areas = props.service ? SCOPE_AREAS.filter((a) => a.id !== "signin") : SCOPE_AREAS;
  return (
    <fieldset aria-describedby="scopes-hint">
      <legend>Permissions</legend>
      <p id="scopes-hint" class="field-hint">
        {props.service
          ? "The service can do exactly what you tick here, nothing more."
          : "The most the app may ask for. Each person still decides on the consent screen, and nobody can give more than their own role allows."}
      </p>
      {areas.map((area) => {
        const [every] = groupScopes(area.scopes);
        const [chosen] = groupScopes(area.scopes.filter((s) => props.selected.has(s)));
        return (
          <fieldset class="scope-area picker" aria-describedby={`area-${area.id}-hint`}>
            <legend>
              {area.title}
              {chosen?.level ? <span class="tag">{chosen.level}</span> : null}
            </legend>
            <p id={`area-${area.id}-hint`} class="field-hint">
              {HINTS[area.id]} {chosen ? `Chosen: ${chosen.summary.toLowerCase()}.` : "Nothing chosen."}
            </p>
            {area.meta ? (
              <div class="check everything">
                <input
                  type="checkbox"
                  id={`scope-${area.meta}`}
                  name="scope"
                  value={area.meta}
                  checked={props.selected.has(area.meta)}
                />
                <label for={`scope-${area.meta}`}>
                  Every {area.title.toLowerCase()} permission <code>{area.meta}</code>
                </label>
              </div>
            ) : null}
            <details>
              <summary>
                Choose each of {every?.rows.length}
                <span class="vh"> {area.title.toLowerCase()} permissions</span>
              </summary>
              <ScopeRows area={area.id} rows={every?.rows ?? []} name="scope" checked={(s) => props.selected.has(s)} />
            </details>
          </fieldset>
        );
      })}
    </fieldset>
  );
}
