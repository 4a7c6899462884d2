/** Worker entry of the example MCP server: settings from vars, the app built once per isolate. */
import { mcpApp } from "./app";

interface Env {
  ISSUER: string;
  RESOURCE: string;
  INTROSPECTION_CLIENT_ID?: string;
  INTROSPECTION_CLIENT_SECRET?: string;
}

let app: ReturnType<typeof mcpApp> | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= mcpApp({
      issuer: env.ISSUER,
      resource: env.RESOURCE,
      introspection:
        env.INTROSPECTION_CLIENT_ID && env.INTROSPECTION_CLIENT_SECRET
          ? { clientId: env.INTROSPECTION_CLIENT_ID, clientSecret: env.INTROSPECTION_CLIENT_SECRET }
          : undefined,
    });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
