/**
 * The fields of an app, shared by "create" and "edit": name, redirect URIs (one per line), how a
 * secret is sent or, for private_key_jwt, the app's public keys (create only), permissions,
 * automatic consent, for apps that act for people the sign-out addresses, device sign-in and the
 * ID token's signature, and for a new service the region its token checks run in. What a type
 * cannot have is not shown.
 */
import { isLocationHint, LOCATION_HINTS } from "../../durable/stub";
import type { AppType } from "../../oauth/admin-apps";
import { DEFAULT_ID_TOKEN_SIGNING_ALG, ID_TOKEN_SIGNING_ALGS } from "../../oauth/signing-algorithms";
import { ScopePicker } from "./scope-picker";

export interface AppFormValues {
  name: string;
  /** One per line, as typed. */
  redirectUris: string;
  /** One per line, as typed (RP-Initiated Logout 1.0 §3.1). */
  postLogoutRedirectUris: string;
  /** The device authorization grant (RFC 8628) besides the code flow. */
  deviceFlow: boolean;
  /** `id_token_signed_response_alg` (OIDC Dynamic Client Registration §2), as posted: the use case checks it. */
  idTokenAlg: string;
  scopes: ReadonlySet<string>;
  automaticConsent: boolean;
  authMethod: "client_secret_basic" | "client_secret_post" | "private_key_jwt";
  /** private_key_jwt: a pasted JWK Set, or the URL where the app publishes it (RFC 7591 §2). */
  jwks: string;
  jwksUri: string;
  /** A new client_credentials app: where its token checks run, as posted ("": near whoever creates it). */
  locationHint: string;
}

export const EMPTY_APP_FORM: AppFormValues = {
  name: "",
  redirectUris: "",
  postLogoutRedirectUris: "",
  deviceFlow: false,
  idTokenAlg: DEFAULT_ID_TOKEN_SIGNING_ALG,
  scopes: new Set(),
  automaticConsent: false,
  authMethod: "client_secret_basic",
  jwks: "",
  jwksUri: "",
  locationHint: "",
};

/** Where a client_credentials app's token checks run, in words. */
export const placementLabel = (hint: string | null) =>
  isLocationHint(hint) ? `In ${LOCATION_HINTS[hint]}` : "Near where the app was created";

/**
 * A new client_credentials app's location hint: its service user's objects, which check its tokens,
 * are created there (durable/stub.ts), and stay there.
 */
function PlacementField({ values }: { values: AppFormValues }) {
  return (
    <>
      <label for="location-hint">Where its token checks run</label>
      <p id="location-hint-hint" class="field-hint">
        Choose the region the app's API calls come from: introspection and revocation of its tokens are answered there.
        This cannot be changed later.
      </p>
      <select id="location-hint" name="location_hint" aria-describedby="location-hint-hint">
        <option value="" selected={values.locationHint === ""}>
          Near me (where this app is created) — the default
        </option>
        {Object.entries(LOCATION_HINTS).map(([hint, region]) => (
          <option value={hint} selected={values.locationHint === hint}>
            {region}
          </option>
        ))}
      </select>
    </>
  );
}

/** private_key_jwt (RFC 7523): the app's public keys, pasted as a JWK Set or by URL (RFC 7591 §2). */
function KeyFields({ values }: { values: AppFormValues }) {
  return (
    <>
      <p id="keys-hint" class="field-hint">
        For private_key_jwt only: paste the app's public keys as a JWK Set, or give the https URL where the app
        publishes them (fetched and cached; a new key is picked up when the app starts using it).
      </p>
      <label for="jwks">Public keys (JWK Set)</label>
      <textarea id="jwks" name="jwks" rows={4} spellcheck={false} autocomplete="off" aria-describedby="keys-hint">
        {values.jwks}
      </textarea>
      <label for="jwks-uri">…or the URL of the app's JWK Set</label>
      <input
        type="url"
        id="jwks-uri"
        name="jwks_uri"
        value={values.jwksUri}
        autocomplete="off"
        aria-describedby="keys-hint"
      />
    </>
  );
}

export function AppFields(props: { type: AppType; values: AppFormValues; creating: boolean }) {
  const { type, values } = props;
  const service = type === "client_credentials";
  return (
    <>
      <label for="app-name">Name</label>
      <p id="app-name-hint" class="field-hint">
        {service
          ? "Shown in the list of apps and in the audit log."
          : "People see this name when the app asks for access."}
      </p>
      <input
        type="text"
        id="app-name"
        name="name"
        value={values.name}
        required
        maxlength={100}
        autocomplete="off"
        aria-describedby="app-name-hint"
      />
      {service ? null : (
        <>
          <label for="redirect-uris">Redirect URIs</label>
          <p id="redirect-uris-hint" class="field-hint">
            Where people are sent back after they allow the app, one address per line. Use https, or http only for
            127.0.0.1 or localhost (an app on the person's own computer; any port is accepted).
          </p>
          <textarea
            id="redirect-uris"
            name="redirect_uris"
            rows={3}
            required
            spellcheck={false}
            autocomplete="off"
            aria-describedby="redirect-uris-hint"
          >
            {values.redirectUris}
          </textarea>
          <PersonalAppFields values={values} />
        </>
      )}
      {props.creating && type !== "public" ? (
        <>
          <label for="auth-method">How the app authenticates</label>
          <select id="auth-method" name="token_endpoint_auth_method">
            <option value="client_secret_basic" selected={values.authMethod === "client_secret_basic"}>
              A secret in the Authorization header (HTTP Basic) — recommended
            </option>
            <option value="client_secret_post" selected={values.authMethod === "client_secret_post"}>
              A secret in the form body (client_secret_post)
            </option>
            <option value="private_key_jwt" selected={values.authMethod === "private_key_jwt"}>
              A JWT signed with the app's private key (private_key_jwt) — no shared secret
            </option>
          </select>
          <KeyFields values={values} />
        </>
      ) : null}
      {!props.creating && values.authMethod === "private_key_jwt" ? <KeyFields values={values} /> : null}
      {props.creating && service ? <PlacementField values={values} /> : null}
      <ScopePicker selected={values.scopes} service={service} />
      {service ? null : (
        <div class="check">
          <input
            type="checkbox"
            id="automatic-consent"
            name="automatic_consent"
            value="yes"
            checked={values.automaticConsent}
            aria-describedby="automatic-consent-hint"
          />
          <label for="automatic-consent">
            Skip the consent screen
            <span id="automatic-consent-hint" class="field-hint block">
              Only for apps your team runs and trusts: people are not asked before the app gets access.
            </span>
          </label>
        </div>
      )}
    </>
  );
}

/** Sign-out return addresses, device sign-in and ID tokens: only apps that act for people have them. */
function PersonalAppFields(props: { values: AppFormValues }) {
  const { values } = props;
  return (
    <>
      <label for="post-logout-redirect-uris">
        Addresses after sign-out <span class="muted">(optional)</span>
      </label>
      <p id="post-logout-redirect-uris-hint" class="field-hint">
        Where the app may send people after it signs them out, one address per line, matched exactly. The same rules as
        redirect URIs.
      </p>
      <textarea
        id="post-logout-redirect-uris"
        name="post_logout_redirect_uris"
        rows={2}
        spellcheck={false}
        autocomplete="off"
        aria-describedby="post-logout-redirect-uris-hint"
      >
        {values.postLogoutRedirectUris}
      </textarea>
      <div class="check">
        <input
          type="checkbox"
          id="device-flow"
          name="device_flow"
          value="yes"
          checked={values.deviceFlow}
          aria-describedby="device-flow-hint"
        />
        <label for="device-flow">
          Sign-in on devices without a browser
          <span id="device-flow-hint" class="field-hint block">
            For TVs, command-line tools and agents: the app shows a code, and the person allows it at /device on their
            phone or computer (the device authorization grant).
          </span>
        </label>
      </div>
      <label for="id-token-alg">ID token signature</label>
      <p id="id-token-alg-hint" class="field-hint">
        RS256 is what every OpenID Connect library expects unless told otherwise. ES256 tokens are smaller and quicker
        to issue; choose it only if the app's library accepts ES256 ID tokens.
      </p>
      <select id="id-token-alg" name="id_token_signed_response_alg" aria-describedby="id-token-alg-hint">
        {ID_TOKEN_SIGNING_ALGS.map((alg) => (
          <option value={alg} selected={values.idTokenAlg === alg}>
            {alg === DEFAULT_ID_TOKEN_SIGNING_ALG ? `${alg} — the default` : alg}
          </option>
        ))}
      </select>
    </>
  );
}
