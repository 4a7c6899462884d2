/**
 * Creating an app in two steps that work without JavaScript: first the kind of app (a GET form), then
 * a form made for that kind, so nobody is offered a field their kind of app cannot have.
 */
import type { AppType } from "../../oauth/admin-apps";
import { AppFields, type AppFormValues } from "./app-form";
import { APP_TYPE_LABELS } from "./format";
import { SettingsFrame } from "./frame";

const TYPES: AppType[] = ["confidential", "public", "client_credentials"];

export function NewAppTypePage(props: { teamId: string; teamName: string }) {
  return (
    <SettingsFrame title="Create an app" section="oauth-applications" isAdmin>
      <h1>Create an app for {props.teamName}</h1>
      <form method="get" action="/settings/oauth-applications/new">
        <input type="hidden" name="team" value={props.teamId} />
        <fieldset>
          <legend>What kind of app is it?</legend>
          <ul class="choices">
            {TYPES.map((type, i) => (
              <li>
                <input
                  type="radio"
                  id={`type-${type}`}
                  name="type"
                  value={type}
                  checked={i === 0}
                  aria-describedby={`type-${type}-hint`}
                />
                <label for={`type-${type}`}>
                  {APP_TYPE_LABELS[type].name}
                  <span id={`type-${type}-hint`} class="field-hint block">
                    {APP_TYPE_LABELS[type].explanation}
                  </span>
                </label>
              </li>
            ))}
          </ul>
        </fieldset>
        <div class="actions">
          <button type="submit" class="primary">
            Continue
          </button>
          <a class="button" href="/settings/oauth-applications">
            Cancel
          </a>
        </div>
      </form>
    </SettingsFrame>
  );
}

export interface NewAppPageProps {
  teamId: string;
  teamName: string;
  type: AppType;
  values: AppFormValues;
  /** What was wrong with the last attempt, in words. */
  error?: string;
  csrf: string;
}

export function NewAppPage(props: NewAppPageProps) {
  const label = APP_TYPE_LABELS[props.type];
  return (
    <SettingsFrame title="Create an app" section="oauth-applications" isAdmin>
      <h1>Create a {label.name.toLowerCase()}</h1>
      <p class="muted">
        {label.explanation}{" "}
        <a href={`/settings/oauth-applications/new?team=${encodeURIComponent(props.teamId)}`}>Choose another kind</a>
      </p>
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/settings/oauth-applications">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="team" value={props.teamId} />
        <input type="hidden" name="type" value={props.type} />
        <AppFields type={props.type} values={props.values} creating />
        <div class="actions">
          <button type="submit" class="primary">
            Create app
          </button>
          <a class="button" href="/settings/oauth-applications">
            Cancel
          </a>
        </div>
      </form>
    </SettingsFrame>
  );
}
