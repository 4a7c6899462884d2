/** Worker entry: the Hono app and the Durable Object classes. */
import { app } from "./app";

export { ClientReplay } from "./durable/client-replay";
export { DeviceAuthorization } from "./durable/device-authorization";
export { UserGrants } from "./durable/user-grants";

export default app satisfies ExportedHandler<import("./config").Env>;
