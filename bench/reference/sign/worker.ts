/**
 * Reference "sign": one ES256 signature per request and a token response; the one-signature
 * reference. It reads the request's form body first, as any token endpoint must.
 */
import { readTokenForm, signAccessToken, tokenResponse } from "../common/access-token";

export default {
  async fetch(request): Promise<Response> {
    const form = await readTokenForm(request);
    return tokenResponse(await signAccessToken(form.get("client_id") ?? "bench-client", crypto.randomUUID()));
  },
} satisfies ExportedHandler;
