import { DurableObject } from "cloudflare:workers";
import type { Env } from "../config";

/** Holds every token family of one user; see ARCHITECTURE.md. */
export class UserGrants extends DurableObject<Env> {}
