import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { DynamoException } from "../protocol/dynamo-exception.js";
import { canonicalRequest } from "./canonical-request.js";

/**
 * AWS Signature Version 4 verification (AWS General Reference, "Signature Version 4 signing
 * process"): the server rebuilds the canonical request from what it received, derives the
 * signing key from the secret of the access key id the Credential names, and compares the
 * signature in constant time. A request whose X-Amz-Date is more than 15 minutes from the
 * server's clock is refused even if signed correctly (replay protection). The errors are
 * DynamoDB's: MissingAuthenticationTokenException (no Authorization), IncompleteSignatureException
 * (a malformed one), UnrecognizedClientException (unknown access key id),
 * InvalidSignatureException (wrong signature, or expired).
 */
export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface SignedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Uint8Array;
}

export interface SignatureClock {
  nowMs: number;
  skewMaxMs: number;
}

const algorithm = "AWS4-HMAC-SHA256";

interface ParsedAuthorization {
  accessKeyId: string;
  scope: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

export function verifySignature(request: SignedRequest, credentials: readonly Credentials[], clock: SignatureClock): DynamoException | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header === "") return new DynamoException("MissingAuthenticationTokenException", "Request is missing Authentication Token");
  const parsed = parseAuthorization(header);
  if (typeof parsed === "string") return new DynamoException("IncompleteSignatureException", parsed);
  const amzDate = headerValue(request.headers["x-amz-date"]);
  if (amzDate === undefined) return new DynamoException("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const signedAtMs = parseAmzDate(amzDate);
  if (signedAtMs === undefined) return new DynamoException("IncompleteSignatureException", `X-Amz-Date must be in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z'), got ${amzDate.slice(0, 40)}`);
  const skew = skewRefusal(amzDate, signedAtMs, clock);
  if (skew !== undefined) return skew;
  const secret = credentials.find((c) => c.accessKeyId === parsed.accessKeyId)?.secretAccessKey;
  if (secret === undefined) return new DynamoException("UnrecognizedClientException", "The security token included in the request is invalid.");
  if (!amzDate.startsWith(parsed.date)) return new DynamoException("InvalidSignatureException", `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${amzDate.slice(0, 8)}'`);
  const expected = signature(request, parsed, amzDate, secret);
  const given = Buffer.from(parsed.signature, "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return new DynamoException(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return undefined;
}

function signature(request: SignedRequest, parsed: ParsedAuthorization, amzDate: string, secret: string): Buffer {
  const payloadHash = createHash("sha256").update(request.body).digest("hex");
  const canonical = canonicalRequest({ method: request.method, url: request.url, headers: request.headers, signedHeaders: parsed.signedHeaders, payloadHash });
  const stringToSign = [algorithm, amzDate, parsed.scope, createHash("sha256").update(canonical).digest("hex")].join("\n");
  let key: Buffer = hmac(`AWS4${secret}`, parsed.date);
  key = hmac(key, parsed.region);
  key = hmac(key, parsed.service);
  key = hmac(key, "aws4_request");
  return Buffer.from(createHmac("sha256", key).update(stringToSign).digest("hex"), "utf8");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/dynamodb/aws4_request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorization(header: string): ParsedAuthorization | string {
  if (!header.startsWith(`${algorithm} `)) return `Authorization header must start with ${algorithm}`;
  const fields = new Map<string, string>();
  for (const part of header.slice(algorithm.length + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signatureHex = fields.get("Signature");
  if (credential === undefined || signedHeaders === undefined || signatureHex === undefined) {
    return "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.";
  }
  const scopeParts = credential.split("/");
  if (scopeParts.length !== 5 || scopeParts[4] !== "aws4_request") return `Credential should be scoped to a valid region, not '${credential.slice(0, 200)}'.`;
  const [accessKeyId, date, region, service] = scopeParts as [string, string, string, string];
  return { accessKeyId, scope: scopeParts.slice(1).join("/"), date, region, service, signedHeaders: signedHeaders.split(";"), signature: signatureHex };
}

function parseAmzDate(text: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, s);
}

function skewRefusal(amzDate: string, signedAtMs: number, clock: SignatureClock): DynamoException | undefined {
  const skewMinutes = Math.round(clock.skewMaxMs / 60_000);
  if (signedAtMs < clock.nowMs - clock.skewMaxMs) {
    return new DynamoException("InvalidSignatureException", `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(clock.nowMs - clock.skewMaxMs)} (${formatAmzDate(clock.nowMs)} - ${skewMinutes} min.)`);
  }
  if (signedAtMs > clock.nowMs + clock.skewMaxMs) {
    return new DynamoException("InvalidSignatureException", `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(clock.nowMs + clock.skewMaxMs)} (${formatAmzDate(clock.nowMs)} + ${skewMinutes} min.)`);
  }
  return undefined;
}

function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
