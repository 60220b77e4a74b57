import { badRequest, type ShoalError } from "../errors.js";
import { LeanRequest, requestHeader } from "../http/lean-request.js";
import type { HttpReply, ShoalRequest } from "./shoal-response.js";

/**
 * Reads a request body of at most `maxBytes`. A declared Content-Length over the cap is refused
 * before reading a byte (and before a 100 Continue is sent); a chunked body is counted while it streams and reading stops at the
 * first byte past the cap (the rest is never buffered: the caller answers and closes the
 * connection). On Shoal's own server (LeanRequest) the connection collects the body and hands
 * it over whole; on node:http it is read from the request stream.
 */
export class BodyTooLarge {
  constructor(readonly error: ShoalError) {}
}

export function declaredLength(req: ShoalRequest): number | undefined {
  const header = requestHeader(req, "content-length");
  if (header === undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}

export function readBody(req: ShoalRequest, res: HttpReply, maxBytes: number, tooLarge: (bytes: number, exact: boolean) => ShoalError): Promise<Buffer> {
  const declared = declaredLength(req);
  if (declared !== undefined && declared > maxBytes) return Promise.reject(new BodyTooLarge(tooLarge(declared, true)));
  // A client that asked to wait (Expect: 100-continue) sends the body only once told to, so a
  // refused request never uploads it (the node routes checkContinue to the normal handler).
  const expect = requestHeader(req, "expect");
  if (expect !== undefined && expect.toLowerCase() === "100-continue") res.writeContinue();
  if (req instanceof LeanRequest) return req.readBody(maxBytes, (bytes) => new BodyTooLarge(tooLarge(bytes, false)));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("aborted", onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        reject(new BodyTooLarge(tooLarge(size, false)));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onAborted = (): void => {
      cleanup();
      reject(badRequest("RequestAborted", "the client closed the connection before sending the whole body"));
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("aborted", onAborted);
  });
}
