/** Plain words and small pieces shared by the settings pages: times, app kinds. */
import type { AppType } from "../../oauth/admin-apps";

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
