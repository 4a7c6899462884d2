/** "Are you sure?" before an action that cannot be undone: what will happen, in words, and two buttons. */
import { SettingsFrame, type SettingsSection } from "./frame";

export interface ConfirmPageProps {
  title: string;
  /** What happens, one sentence each. */
  consequences: string[];
  action: string;
  button: string;
  cancel: string;
  csrf: string;
  /** The menu entry to mark (the apps pages unless said otherwise). */
  section?: SettingsSection;
}

export function ConfirmPage(props: ConfirmPageProps) {
  return (
    <SettingsFrame title={props.title} section={props.section ?? "oauth-applications"} isAdmin>
      <h1>{props.title}</h1>
      <ul class="consequences">
        {props.consequences.map((line) => (
          <li>{line}</li>
        ))}
      </ul>
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <div class="actions">
          <button type="submit" class="primary danger">
            {props.button}
          </button>
          <a class="button" href={props.cancel}>
            Cancel
          </a>
        </div>
      </form>
    </SettingsFrame>
  );
}
