/**
 * Between the app forms and the admin use cases (src/oauth/admin-apps.ts): a client row as the pages
 * show it, a posted form as the use cases' input, and a use-case error as a page.
 */
import { type AppType, actingTeam, appType } from "../../oauth/admin-apps";
import { OAuthError } from "../../oauth/errors";
import { DEVICE_CODE_GRANT_TYPE } from "../../oauth/grant-types";
import { DEFAULT_ID_TOKEN_SIGNING_ALG } from "../../oauth/signing-algorithms";
import { renderErrorPage } from "../../pages/render";
import type { AppFormValues } from "../../pages/settings/app-form";
import type { AppSummary } from "../../pages/settings/app-list";
import type { ClientRow } from "../../store/clients";
import type { FormFields } from "../form-fields";
import type { SettingsContext } from "./access";

export function summaryOf(client: ClientRow): AppSummary {
  return {
    clientId: client.id,
    name: client.name,
    type: appType(client),
    origin: client.origin,
    authMethod: client.tokenEndpointAuthMethod,
    grantTypes: client.grantTypes,
    scopes: client.scopes,
    createdAt: client.createdAt,
    lastUsedAt: client.lastUsedAt,
  };
}

export function formValuesOf(client: ClientRow): AppFormValues {
  return {
    name: client.name,
    redirectUris: client.redirectUris.join("\n"),
    postLogoutRedirectUris: client.postLogoutRedirectUris.join("\n"),
    deviceFlow: client.grantTypes.includes(DEVICE_CODE_GRANT_TYPE),
    idTokenAlg: client.idTokenSignedResponseAlg,
    scopes: new Set(client.scopes),
    automaticConsent: client.automaticConsent,
    authMethod: authMethodOf(client.tokenEndpointAuthMethod),
    jwks: client.metadata.jwks === undefined ? "" : JSON.stringify(client.metadata.jwks),
    jwksUri: typeof client.metadata.jwks_uri === "string" ? client.metadata.jwks_uri : "",
    locationHint: client.locationHint ?? "",
  };
}

export function formValuesFrom(form: FormFields): AppFormValues {
  return {
    name: form.get("name") ?? "",
    redirectUris: form.get("redirect_uris") ?? "",
    postLogoutRedirectUris: form.get("post_logout_redirect_uris") ?? "",
    deviceFlow: form.ticked("device_flow"),
    idTokenAlg: form.get("id_token_signed_response_alg") ?? DEFAULT_ID_TOKEN_SIGNING_ALG,
    scopes: new Set(form.getAll("scope")),
    automaticConsent: form.ticked("automatic_consent"),
    authMethod: authMethodOf(form.get("token_endpoint_auth_method")),
    jwks: form.get("jwks") ?? "",
    jwksUri: form.get("jwks_uri") ?? "",
    locationHint: form.get("location_hint") ?? "",
  };
}

function authMethodOf(value: string | undefined): AppFormValues["authMethod"] {
  return value === "client_secret_post" || value === "private_key_jwt" ? value : "client_secret_basic";
}

export const parseAppType = (value: unknown): AppType | undefined =>
  value === "public" || value === "confidential" || value === "client_credentials" ? value : undefined;

/** A textarea of one entry per line, blanks dropped. */
const linesOf = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);

/**
 * The use-case input (the same fields as the admin JSON API) from the form, or a sentence saying
 * what to fix first. Fields a type cannot have are never sent.
 */
export function appInput(
  type: AppType,
  values: AppFormValues,
  creating: boolean,
): { input: Record<string, unknown> } | { problem: string } {
  if (values.scopes.size === 0) return { problem: "Tick at least one permission." };
  const input: Record<string, unknown> = { name: values.name, scope: [...values.scopes].join(" ") };
  if (type !== "client_credentials") {
    const uris = linesOf(values.redirectUris);
    if (uris.length === 0) return { problem: "Enter at least one redirect URI." };
    input.redirect_uris = uris;
    input.post_logout_redirect_uris = linesOf(values.postLogoutRedirectUris);
    input.grant_types = ["authorization_code", "refresh_token", ...(values.deviceFlow ? [DEVICE_CODE_GRANT_TYPE] : [])];
    input.automatic_consent = values.automaticConsent;
    input.id_token_signed_response_alg = values.idTokenAlg;
  }
  if (creating) {
    input.type = type;
    if (type !== "public") input.token_endpoint_auth_method = values.authMethod;
    if (type === "client_credentials" && values.locationHint) input.location_hint = values.locationHint;
  }
  // Created with keys, or editing a private_key_jwt app's keys (new ones replace the old).
  if (type !== "public" && values.authMethod === "private_key_jwt") {
    const keys = privateKeyJwtKeys(values);
    if ("problem" in keys) return keys;
    Object.assign(input, keys.input);
  }
  return { input };
}

/** The pasted JWK Set or the JWK Set URL; the use case validates them like the JSON API's. */
function privateKeyJwtKeys(values: AppFormValues): { input: Record<string, unknown> } | { problem: string } {
  const pasted = values.jwks.trim();
  const uri = values.jwksUri.trim();
  if (pasted && uri) return { problem: "Paste the public keys or give their URL, not both." };
  if (uri) return { input: { jwks_uri: uri } };
  if (!pasted) return { problem: "Paste the app's public keys (a JWK Set) or give the URL where it publishes them." };
  try {
    return { input: { jwks: JSON.parse(pasted) } };
  } catch {
    return { problem: 'The public keys are not valid JSON: paste a JWK Set such as {"keys": [ … ]}.' };
  }
}

/** A use case refused the input: its description is written for people ("name is required"). */
export function refusal(error: unknown): string {
  if (error instanceof OAuthError && error.status < 500) return `That did not work: ${error.description}.`;
  throw error;
}

/**
 * The team a team-wide page is about: the one asked for, else the first the person administers.
 * `resolve` applies the surface's rule for naming another team (the members pages answer 404).
 */
export async function pageTeam(c: SettingsContext, requested: string | undefined, resolve = actingTeam) {
  const actor = c.get("actor");
  const teamId = await resolve(c.env, actor, requested || actor.teams[0]);
  const admin = c.get("memberships").filter((m) => m.role === "admin");
  return {
    teamId,
    teamName: admin.find((m) => m.teamId === teamId)?.teamName ?? teamId,
    otherTeams: admin.filter((m) => m.teamId !== teamId).map((m) => ({ teamId: m.teamId, teamName: m.teamName })),
  };
}

export type PageTeam = Awaited<ReturnType<typeof pageTeam>>;

/** pageTeam, or the error page when the person may not act in the team asked for. */
export async function pageTeamOrError(c: SettingsContext, requested: string | undefined): Promise<PageTeam | Response> {
  try {
    return await pageTeam(c, requested);
  } catch (e) {
    return errorPage(c, e);
  }
}

/**
 * A use case's refusal (an OAuthError below 500) as the page a person sees: 404 with `notFound` for
 * what is not theirs to see, else the refusal's own sentence and status. Anything else is rethrown.
 */
export function refusalPage(
  c: SettingsContext,
  error: unknown,
  notFound: { title: string; message: string },
  back?: { href: string; label: string },
): Response {
  if (!(error instanceof OAuthError) || error.status >= 500) throw error;
  if (error.code === "not_found") return renderErrorPage(c, { ...notFound, status: 404, next: back });
  const title = error.status === 403 ? "Not allowed" : "That did not work";
  const message = `${error.description.charAt(0).toUpperCase()}${error.description.slice(1)}.`;
  return renderErrorPage(c, { title, message, status: error.status, next: back });
}

/** An OAuthError from findApp/actingTeam or an app use case as a page (404 no such app, else its sentence). */
export const errorPage = (c: SettingsContext, error: unknown): Response =>
  refusalPage(c, error, {
    title: "App not found",
    message: "There is no such app in the teams you manage. It may have been deleted.",
  });
