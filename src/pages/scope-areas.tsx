/**
 * Scopes as people read them, grouped by area (src/oauth/scope-groups.ts): the checkbox rows the
 * consent page and the app forms share, and the read-only summary of connected apps and app cards.
 */
import type { Child } from "hono/jsx";
import { type AreaId, groupScopes, type ResourceRow } from "../oauth/scope-groups";
import { describeScope } from "../oauth/scopes";

export interface ScopeRowsProps {
  area: AreaId;
  rows: ResourceRow[];
  /** The form field every box posts as. */
  name: string;
  checked: (scope: string) => boolean;
  /** Something to show after a row's name ("allowed before"). */
  note?: (row: ResourceRow) => Child;
  /** Plain words for a scope; describeScope unless the caller already has them. */
  describe?: (scope: string) => string;
}

/**
 * One line per resource with a "view" and a "change" box; sign-in scopes one per line in plain
 * words. Each box's accessible name is the full sentence ("View incident response incidents"),
 * which contains the word the eye reads in the column (WCAG 2.5.3).
 */
export function ScopeRows(props: ScopeRowsProps) {
  const describe = props.describe ?? describeScope;
  return (
    <ul class="resources">
      {props.rows.map((row) =>
        props.area === "signin" ? (
          <li>
            <span class="box">
              <Box scope={row.view as string} {...props} />
              <label for={`scope-${row.view}`}>
                {describe(row.view as string)} <code>{row.view}</code>
              </label>
            </span>
            {props.note?.(row)}
          </li>
        ) : (
          <li>
            <span class="resource">
              {row.name}
              {props.note?.(row)}
            </span>
            {(["view", "change"] as const).map((access) => {
              const scope = row[access];
              if (!scope) return null;
              return (
                <span class="box">
                  <Box scope={scope} {...props} />
                  <label for={`scope-${scope}`}>
                    <span class="vh">{describe(scope)}</span>
                    <span aria-hidden="true">{access}</span>
                  </label>
                </span>
              );
            })}
          </li>
        ),
      )}
    </ul>
  );
}

function Box(props: { scope: string; name: string; checked: (scope: string) => boolean }) {
  return (
    <input
      type="checkbox"
      id={`scope-${props.scope}`}
      name={props.name}
      value={props.scope}
      checked={props.checked(props.scope)}
    />
  );
}

/** What a set of scopes allows, one line per area with its level, every permission on demand. */
export function ScopeAreasSummary(props: { scopes: readonly string[] }) {
  const groups = groupScopes(props.scopes);
  if (groups.length === 0) return <span class="muted">Nothing</span>;
  return (
    <>
      <ul class="area-lines">
        {groups.map((g) => (
          <li>
            <strong>{g.area.title}</strong>
            {g.level ? <span class="tag">{g.level}</span> : null}{" "}
            {g.area.resources ? g.summary : `${g.summary} (${g.scopes.join(", ")})`}
          </li>
        ))}
      </ul>
      <details>
        <summary>Show each permission ({props.scopes.length})</summary>
        <ul class="plain">
          {groups.flatMap((g) =>
            g.scopes.map((s) => (
              <li>
                {describeScope(s)} <code>{s}</code>
              </li>
            )),
          )}
        </ul>
      </details>
    </>
  );
}
