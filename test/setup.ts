import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { seedDemo } from "./helpers";

// Fresh storage per test file: apply the real migrations and the real local seed.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await seedDemo();
