#!/usr/bin/env node
/**
 * `npm run admin -- <command> [options]`: the operator's CLI over the JSON admin API (/api/admin),
 * authenticated with ADMIN_API_TOKEN. Plain Node: fetch and util.parseArgs, no dependencies.
 */
import { parseArgs } from "node:util";
import { LOCAL_ADMIN_API_TOKEN, LOCAL_ORIGIN } from "./local-defaults.mjs";

const USAGE = `Usage: npm run admin -- <command> [options]

Commands
  create-app     --name <name> --type public|confidential|client_credentials --team <team_id>
                 [--redirect-uri <uri>]... [--scope "<scopes>"] [--automatic-consent]
                 [--auth-method client_secret_basic|client_secret_post|private_key_jwt]
                 [--jwks-uri <https URL> | --jwks '<JWK Set JSON>']   (private_key_jwt, RFC 7523)
                 [--grant-type <type>]... [--post-logout-redirect-uri <uri>]...
                 [--id-token-alg RS256|ES256]   (ID token signature; default RS256)
                 [--location-hint wnam|enam|sam|weur|eeur|apac|apac-ne|apac-se|oc|afr|me]
                 (client_credentials: the region its token checks run in; fixed at creation)
  list-apps      --team <team_id>
  get-app        <client_id>
  update-app     <client_id> [--name <name>] [--redirect-uri <uri>]... [--scope "<scopes>"]
                 [--automatic-consent | --no-automatic-consent] [--jwks-uri <url> | --jwks '<json>']
                 [--grant-type <type>]... [--post-logout-redirect-uri <uri>]...
                 [--id-token-alg RS256|ES256]
                 (grant types: authorization_code, refresh_token,
                  urn:ietf:params:oauth:grant-type:device_code; the type, team, auth method and
                  location hint are fixed at creation and refused here)
  reset-secret   <client_id>
  revoke-tokens  <client_id>
  delete-app     <client_id>
  list-members   --team <team_id>                    people (roles, last sign-in, apps) and open invitations
  set-role       <user_id> --team <team_id> [--role admin|member|observer|none]
                 [--on-call-role admin|responder|observer|none]
  remove-member  <user_id> --team <team_id>          revokes their tokens and sessions in the team at once
  invite         --email <email> --team <team_id> [--role <role>] [--on-call-role <role>]
                 joins at their next sign-in (7 days); default member / responder
  withdraw-invitation <invitation_id>
  audit          --team <team_id> [--kind <kind>] [--limit <n>] [--before <id>]
  rotate-keys    new ES256 and RS256 signing keys (the old ones stay published until their tokens expire)

Options
  --url <origin>   the edge-oidc server (default: $EDGE_OIDC_URL or http://127.0.0.1:8787)
  --json           print the raw JSON response

Environment
  ADMIN_API_TOKEN  the operator token the server is configured with (required, except against
                   the local dev server, whose default token is used)
  EDGE_OIDC_URL    default for --url

Example
  npm run admin -- create-app --name "Deploy bot" --type client_credentials \\
    --scope "ir.incidents:read" --team team_demo`;

function fail(message) {
  console.error(`admin: ${message}`);
  process.exit(1);
}

const { values: opts, positionals } = parseOptions({
  allowPositionals: true,
  options: {
    url: { type: "string" },
    team: { type: "string" },
    name: { type: "string" },
    type: { type: "string" },
    scope: { type: "string" },
    "redirect-uri": { type: "string", multiple: true },
    "post-logout-redirect-uri": { type: "string", multiple: true },
    "grant-type": { type: "string", multiple: true },
    "automatic-consent": { type: "boolean" },
    "no-automatic-consent": { type: "boolean" },
    "auth-method": { type: "string" },
    "id-token-alg": { type: "string" },
    "location-hint": { type: "string" },
    jwks: { type: "string" },
    "jwks-uri": { type: "string" },
    kind: { type: "string" },
    role: { type: "string" },
    "on-call-role": { type: "string" },
    email: { type: "string" },
    limit: { type: "string" },
    before: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  },
});

/** A mistyped option is a one-line error, not node's stack trace. */
function parseOptions(config) {
  try {
    return parseArgs(config);
  } catch (err) {
    fail(`${err.message} (see --help)`);
  }
}

const [command, clientId] = positionals;
if (opts.help || !command) {
  console.log(USAGE);
  process.exit(opts.help ? 0 : 1);
}

const base = (opts.url ?? process.env.EDGE_OIDC_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
// Against the local dev server the local default token works with no setup.
const token = process.env.ADMIN_API_TOKEN || (base === LOCAL_ORIGIN ? LOCAL_ADMIN_API_TOKEN : undefined);
if (!token) fail("set ADMIN_API_TOKEN to the token the server is configured with");

async function api(method, path, body) {
  let res;
  try {
    res = await fetch(`${base}/api/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    fail(`cannot reach ${base}: ${err.cause?.message ?? err.message}`);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    fail(`HTTP ${res.status} from ${base}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) fail(`HTTP ${res.status} ${data.error}: ${data.error_description}`);
  return data;
}

const need = (value, what) => value ?? fail(`${command} needs ${what}`);
const query = (params) => {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined));
  return q.size ? `?${q}` : "";
};

function printApp(app) {
  const rows = [
    ["client_id", app.client_id],
    ["name", app.name],
    ["type", `${app.type} (${app.token_endpoint_auth_method})`],
    ["team", app.team_id],
    ["redirect_uris", app.redirect_uris.join(" ") || "-"],
    ["grant_types", app.grant_types.join(" ")],
    ["scope", app.scope || "-"],
    ["automatic_consent", app.automatic_consent],
  ];
  if (app.id_token_signed_response_alg) rows.push(["id_token_alg", app.id_token_signed_response_alg]);
  if (app.service_user_id) rows.push(["service_user", app.service_user_id]);
  if (app.type === "client_credentials") rows.push(["location_hint", app.location_hint ?? "- (near its creator)"]);
  for (const [k, v] of rows) console.log(`${k.padEnd(18)} ${v}`);
}

function printSecret(secret) {
  console.log(`\nclient_secret      ${secret}`);
  console.log("This secret is shown once and cannot be read again; store it now.");
}

function print(data, human) {
  if (opts.json) console.log(JSON.stringify(data, null, 2));
  else human(data);
}

/** private_key_jwt keys (RFC 7591 §2): a JWK Set by value (JSON) or by reference (URL). */
function keyOptions() {
  if (opts.jwks === undefined) return opts["jwks-uri"] === undefined ? {} : { jwks_uri: opts["jwks-uri"] };
  try {
    return { jwks: JSON.parse(opts.jwks), ...(opts["jwks-uri"] === undefined ? {} : { jwks_uri: opts["jwks-uri"] }) };
  } catch {
    fail("--jwks must be a JWK Set in JSON");
  }
}

const id = () => encodeURIComponent(need(clientId, "a client_id"));

switch (command) {
  case "create-app": {
    const body = {
      name: need(opts.name, "--name"),
      type: need(opts.type, "--type"),
      team_id: need(opts.team, "--team"),
      redirect_uris: opts["redirect-uri"],
      post_logout_redirect_uris: opts["post-logout-redirect-uri"],
      grant_types: opts["grant-type"],
      scope: opts.scope,
      automatic_consent: opts["automatic-consent"],
      token_endpoint_auth_method: opts["auth-method"],
      id_token_signed_response_alg: opts["id-token-alg"],
      location_hint: opts["location-hint"],
      ...keyOptions(),
    };
    print(await api("POST", "/apps", body), (app) => {
      printApp(app);
      if (app.client_secret) printSecret(app.client_secret);
    });
    break;
  }
  case "list-apps":
    print(await api("GET", `/apps${query({ team_id: need(opts.team, "--team") })}`), ({ apps }) => {
      if (apps.length === 0) console.log("no apps");
      for (const app of apps) console.log(`${app.client_id}  ${app.type.padEnd(18)} ${app.name}`);
    });
    break;
  case "get-app":
    print(await api("GET", `/apps/${id()}`), printApp);
    break;
  case "update-app": {
    const automatic = opts["automatic-consent"] ? true : opts["no-automatic-consent"] ? false : undefined;
    const body = {
      name: opts.name,
      redirect_uris: opts["redirect-uri"],
      post_logout_redirect_uris: opts["post-logout-redirect-uri"],
      grant_types: opts["grant-type"],
      scope: opts.scope,
      automatic_consent: automatic,
      id_token_signed_response_alg: opts["id-token-alg"],
      // Fixed at creation: passed on so the server refuses them by name instead of their being ignored.
      type: opts.type,
      team_id: opts.team,
      token_endpoint_auth_method: opts["auth-method"],
      location_hint: opts["location-hint"],
      ...keyOptions(),
    };
    print(await api("PATCH", `/apps/${id()}`, body), printApp);
    break;
  }
  case "reset-secret":
    print(await api("POST", `/apps/${id()}/reset-secret`), (r) => {
      console.log(`client_id          ${r.client_id}`);
      printSecret(r.client_secret);
      console.log("The previous secret no longer works.");
    });
    break;
  case "revoke-tokens":
    print(await api("POST", `/apps/${id()}/revoke-tokens`), (app) =>
      console.log(`Every token of ${app.client_id} (${app.name}) is revoked.`),
    );
    break;
  case "delete-app":
    await api("DELETE", `/apps/${id()}`);
    if (!opts.json) console.log(`Deleted ${clientId}; every token it held is revoked.`);
    break;
  case "list-members":
    print(await api("GET", `/members${query({ team_id: need(opts.team, "--team") })}`), ({ members, invitations }) => {
      for (const m of members) {
        const seen = m.last_sign_in_at ?? "never signed in";
        console.log(
          `${m.user_id}  ${(m.email ?? "-").padEnd(28)} ${m.role.padEnd(8)} ${m.on_call_role.padEnd(9)} ${seen}  apps: ${m.connected_apps}`,
        );
      }
      for (const i of invitations) {
        console.log(
          `${i.id}  ${i.email.padEnd(28)} ${i.role.padEnd(8)} ${i.on_call_role.padEnd(9)} invited, expires ${i.expires_at}`,
        );
      }
    });
    break;
  case "set-role": {
    const body = { role: opts.role, on_call_role: opts["on-call-role"] };
    if (body.role === undefined && body.on_call_role === undefined) fail("set-role needs --role or --on-call-role");
    const path = `/members/${encodeURIComponent(need(clientId, "a user_id"))}${query({ team_id: need(opts.team, "--team") })}`;
    print(await api("PATCH", path, body), (m) =>
      console.log(
        `${m.email ?? m.user_id} is now ${m.role} (on-call ${m.on_call_role}); their tokens already reflect it.`,
      ),
    );
    break;
  }
  case "remove-member": {
    const path = `/members/${encodeURIComponent(need(clientId, "a user_id"))}${query({ team_id: need(opts.team, "--team") })}`;
    await api("DELETE", path);
    if (!opts.json) console.log(`Removed ${clientId}; their tokens and sessions in the team are revoked.`);
    break;
  }
  case "invite": {
    const body = {
      email: need(opts.email, "--email"),
      team_id: need(opts.team, "--team"),
      role: opts.role ?? "member",
      on_call_role: opts["on-call-role"] ?? "responder",
    };
    print(await api("POST", "/invitations", body), (i) =>
      console.log(`Invited ${i.email} as ${i.role} (on-call ${i.on_call_role}) until ${i.expires_at}: ${i.id}`),
    );
    break;
  }
  case "withdraw-invitation":
    await api("DELETE", `/invitations/${encodeURIComponent(need(clientId, "an invitation id"))}`);
    if (!opts.json) console.log(`Withdrew ${clientId}.`);
    break;
  case "audit": {
    const q = query({ team_id: need(opts.team, "--team"), kind: opts.kind, limit: opts.limit, before: opts.before });
    print(await api("GET", `/audit${q}`), ({ events, next_before }) => {
      for (const e of events) {
        console.log(`${e.created_at}  ${e.kind.padEnd(22)} ${e.client_id ?? "-"}  ${e.actor_user_id ?? "operator"}`);
      }
      if (next_before) console.log(`more: --before ${next_before}`);
    });
    break;
  }
  case "rotate-keys":
    print(await api("POST", "/keys/rotate"), ({ current }) => {
      for (const [alg, kid] of Object.entries(current)) console.log(`${alg.padEnd(6)} now signs with ${kid}`);
      console.log("Previous keys stay in the JWKS until every token they signed has expired.");
    });
    break;
  default:
    fail(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
}
