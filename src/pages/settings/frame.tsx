/** The frame of every settings page: the layout, the settings menu, and the outcome of the last action. */
import type { Child } from "hono/jsx";
import { Layout } from "../layout";

export type SettingsSection = "connected-apps" | "oauth-applications" | "members" | "audit";

export interface SettingsFrameProps {
  title: string;
  section: SettingsSection;
  /** Admins see the app and audit pages in the menu (the pages themselves check again). */
  isAdmin: boolean;
  /** A fixed sentence saying what the last action did (never text taken from the request). */
  notice?: string;
  children?: Child;
}

const SECTIONS: { section: SettingsSection; href: string; label: string; adminOnly: boolean }[] = [
  { section: "connected-apps", href: "/settings/connected-apps", label: "Connected apps", adminOnly: false },
  { section: "oauth-applications", href: "/settings/oauth-applications", label: "OAuth applications", adminOnly: true },
  { section: "members", href: "/settings/members", label: "Members", adminOnly: true },
  { section: "audit", href: "/settings/audit", label: "Audit log", adminOnly: true },
];

export function SettingsFrame(props: SettingsFrameProps) {
  return (
    <Layout title={props.title}>
      <div class="settings">
        <nav class="settings-nav" aria-label="Settings">
          <ul>
            <li>
              <a href="/">Your account</a>
            </li>
            {SECTIONS.filter((s) => props.isAdmin || !s.adminOnly).map((s) => (
              <li>
                <a href={s.href} aria-current={s.section === props.section ? "page" : undefined}>
                  {s.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {props.notice ? (
          <p class="notice success" role="status">
            {props.notice}
          </p>
        ) : null}
        {props.children}
      </div>
    </Layout>
  );
}
