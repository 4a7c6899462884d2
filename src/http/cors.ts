import { cors } from "hono/cors";

/** CORS for the machine endpoints (browser and MCP clients); never for /oauth/authorize or pages. */
export const machineCors = cors({
  origin: "*",
  allowMethods: ["GET", "POST", "OPTIONS"],
  allowHeaders: ["Authorization", "Content-Type", "DPoP", "MCP-Protocol-Version"],
  exposeHeaders: ["WWW-Authenticate", "Retry-After"],
  maxAge: 86400,
});
