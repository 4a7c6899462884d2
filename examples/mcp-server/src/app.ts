/**
 * An MCP server (Streamable HTTP, MCP TypeScript SDK) with one tool, `whoami`, protected by
 * edge-oidc access tokens. Stateless: every POST builds a server and a transport for that request,
 * which is what Workers want (no state between requests, any isolate can answer).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { type IntrospectionCredentials, type ResourceServerVariables, resourceServer } from "edge-oidc/resource-server";
import { Hono } from "hono";
import { cors } from "hono/cors";

export interface McpAppOptions {
  issuer: string;
  /** This server's URL, e.g. https://mcp.example.com/mcp: the resource tokens must be issued for. */
  resource: string;
  introspection?: IntrospectionCredentials;
  /** How to reach the authorization server (a service binding's fetch, or the global one). */
  fetch?: typeof fetch;
}

/** The scope every MCP request needs; MCP clients ask for it because scopes_supported lists it. */
export const REQUIRED_SCOPE = "ir.incidents:read";

function mcpServerFor(token: { sub: string; clientId: string; scopes: string[] }): McpServer {
  const server = new McpServer({ name: "edge-oidc-example", version: "1.0.0" });
  server.registerTool(
    "whoami",
    { title: "Who am I?", description: "The user and scopes of the access token this call was made with." },
    async () => {
      const who = { sub: token.sub, client_id: token.clientId, scopes: token.scopes };
      return { content: [{ type: "text", text: JSON.stringify(who) }], structuredContent: who };
    },
  );
  return server;
}

export function mcpApp(options: McpAppOptions): Hono<{ Variables: ResourceServerVariables }> {
  const rs = resourceServer({
    issuer: options.issuer,
    resource: options.resource,
    scopesSupported: [REQUIRED_SCOPE],
    resourceName: "edge-oidc example MCP server",
    introspection: options.introspection,
    fetch: options.fetch,
  });
  const path = new URL(options.resource).pathname;
  const app = new Hono<{ Variables: ResourceServerVariables }>();
  app.route("/", rs.wellKnown);
  // Browser-based MCP clients: preflights pass before authentication, and they may read the challenge.
  app.use(
    path,
    cors({
      origin: "*",
      allowHeaders: [
        "Authorization",
        "Content-Type",
        "DPoP",
        "Mcp-Protocol-Version",
        "Mcp-Session-Id",
        "Last-Event-ID",
      ],
      exposeHeaders: ["WWW-Authenticate", "Mcp-Session-Id"],
    }),
  );
  app.use(path, rs.authenticate({ scopes: [REQUIRED_SCOPE] }));
  app.post(path, async (c) => {
    const token = c.get("accessToken");
    const server = mcpServerFor(token);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined, // stateless
      enableJsonResponse: true,
    });
    await server.connect(transport);
    return transport.handleRequest(c.req.raw, {
      authInfo: { token: "", clientId: token.clientId, scopes: token.scopes, expiresAt: token.exp },
    });
  });
  // Stateless server: no standalone SSE stream (GET) and no session to delete (MCP Streamable HTTP).
  app.on(["GET", "DELETE"], path, (c) => c.json({ error: "method_not_allowed" }, 405, { Allow: "POST" }));
  return app;
}
