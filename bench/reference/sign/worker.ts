/** Reference "sign": one ES256 signature per request and a token response; the one-signature reference. */
import { signAccessToken, tokenResponse } from "../shared/access-token";

export default {
  async fetch(): Promise<Response> {
    return tokenResponse(await signAccessToken("bench-client", crypto.randomUUID()));
  },
} satisfies ExportedHandler;
