/**
 * Shoal's DynamoDB-compatible API (issue 5): the front door a node mounts on `POST /` of its
 * client port, its bounds, and where its credentials come from.
 *
 * @example
 *   const auth = dynamoAuthFromEnvironment(process.env);
 *   const dynamo = new DynamoDbApi({ catalog, items, clock: runtime.clock, timers: runtime.timers, auth: auth.ok ? auth.auth : { mode: "local" }, logger });
 *   dynamo.start();
 *   // in the request listener: if (isDynamoDbRequest(req)) { void dynamo.handle(req, res); return; }
 */
export { DynamoDbApi, isDynamoDbRequest, type DynamoAuth, type DynamoDbApiDeps } from "./dynamodb-api.js";
export { defaultDynamoLimits, type DynamoLimits } from "./dynamo-limits.js";
export { dynamoAuthFromEnvironment, accessKeyIdVariable, secretAccessKeyVariable } from "./auth/dynamo-auth-config.js";
export type { Credentials } from "./auth/sigv4-verifier.js";
