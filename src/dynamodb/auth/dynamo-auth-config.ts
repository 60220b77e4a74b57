import type { DynamoAuth } from "../dynamodb-api.js";

/**
 * Where the DynamoDB front door's credentials come from (issue 5, item 8). With
 * SHOAL_DYNAMODB_ACCESS_KEY_ID and SHOAL_DYNAMODB_SECRET_ACCESS_KEY set (both, or neither),
 * requests must carry a SigV4 signature made with that pair; otherwise the node runs in local
 * mode and accepts any credentials, as DynamoDB Local does (the default for `npm start`).
 *
 * @example
 *   SHOAL_DYNAMODB_ACCESS_KEY_ID=AKIDSHOAL SHOAL_DYNAMODB_SECRET_ACCESS_KEY=s3cret npm start
 */
export const accessKeyIdVariable = "SHOAL_DYNAMODB_ACCESS_KEY_ID";
export const secretAccessKeyVariable = "SHOAL_DYNAMODB_SECRET_ACCESS_KEY";

export type AuthConfigResult = { ok: true; auth: DynamoAuth } | { ok: false; message: string };

export function dynamoAuthFromEnvironment(env: Readonly<Record<string, string | undefined>>): AuthConfigResult {
  const accessKeyId = env[accessKeyIdVariable];
  const secretAccessKey = env[secretAccessKeyVariable];
  if (accessKeyId === undefined && secretAccessKey === undefined) return { ok: true, auth: { mode: "local" } };
  if (accessKeyId === undefined || accessKeyId === "" || secretAccessKey === undefined || secretAccessKey === "") {
    return { ok: false, message: `cannot configure DynamoDB authentication: set both ${accessKeyIdVariable} and ${secretAccessKeyVariable}, or neither for local mode` };
  }
  return { ok: true, auth: { mode: "sigv4", credentials: [{ accessKeyId, secretAccessKey }] } };
}
