/**
 * The admin pages offer what the admin API does for device sign-in (RFC 8628) and sign-out return
 * addresses (RP-Initiated Logout 1.0 §3.1): one rule (client-metadata.ts) behind both surfaces.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { DEVICE_CODE_GRANT_TYPE } from "../src/oauth/grant-types";
import { DEMO } from "./oauth-helpers";
import { elements, type Person, signedIn } from "./settings-browser";

const APPS = "/settings/oauth-applications";
let admin: Person;
beforeAll(async () => {
  admin = await signedIn(DEMO.admin);
});

async function stored(name: string) {
  return env.DB.prepare("SELECT id, grant_types, post_logout_redirect_uris FROM clients WHERE name = ?")
    .bind(name)
    .first<{ id: string; grant_types: string; post_logout_redirect_uris: string }>();
}

describe("device sign-in and sign-out addresses on the app pages", () => {
  it("creates an app with the device grant and post-logout URIs, shows them ticked, and edits them off", async () => {
    const created = await admin.post(APPS, [
      ["team", DEMO.team],
      ["type", "public"],
      ["name", "Terminal"],
      ["redirect_uris", "http://127.0.0.1/cb"],
      ["post_logout_redirect_uris", "https://term.example/bye\r\n\r\nhttp://127.0.0.1/bye"],
      ["device_flow", "yes"],
      ["scope", "openid"],
    ]);
    expect(created.status, await created.clone().text()).toBe(200);
    const row = await stored("Terminal");
    expect(JSON.parse(row!.grant_types)).toEqual(["authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE]);
    expect(JSON.parse(row!.post_logout_redirect_uris)).toEqual(["https://term.example/bye", "http://127.0.0.1/bye"]);

    const path = `${APPS}/${encodeURIComponent(row!.id)}`;
    const edit = await (await admin.get(path)).text();
    expect(await elements(edit, 'input[name="device_flow"][checked]')).toHaveLength(1);
    expect(edit).toContain("https://term.example/bye");

    const saved = await admin.post(path, [
      ["name", "Terminal"],
      ["redirect_uris", "http://127.0.0.1/cb"],
      ["post_logout_redirect_uris", ""],
      ["scope", "openid"],
    ]);
    expect(saved.status).toBe(303);
    const after = await stored("Terminal");
    expect(JSON.parse(after!.grant_types)).toEqual(["authorization_code", "refresh_token"]);
    expect(JSON.parse(after!.post_logout_redirect_uris)).toEqual([]);
  });

  it("refuses a post-logout URI the rules refuse, and says why", async () => {
    const res = await admin.post(APPS, [
      ["team", DEMO.team],
      ["type", "public"],
      ["name", "Bad logout"],
      ["redirect_uris", "http://127.0.0.1/cb"],
      ["post_logout_redirect_uris", "http://evil.example/bye"],
      ["scope", "openid"],
    ]);
    expect(res.status).toBe(400);
    expect(await stored("Bad logout")).toBeNull();
  });
});
