import { Agent, request } from "undici";

/**
 * One HTTP request from the test host to a node, never throwing: an answer (any status) or a
 * transport error (timeout, refused, reset), which the workloads record as indeterminate. Each
 * request is bounded by `timeoutMs`; a paused (SIGSTOP) node accepts the connection and then
 * says nothing, so only the timeout ends such a request.
 */
export type HttpOutcome =
  | { readonly kind: "answer"; readonly status: number; readonly headers: Record<string, string>; readonly body: string }
  | { readonly kind: "error"; readonly error: string };

export interface HttpCall {
  method: "GET" | "PUT" | "POST" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** Bounded connections per node; keep-alive short so a killed node's sockets are not reused for long. */
const agent = new Agent({ connections: 32, keepAliveTimeout: 1000, connect: { timeout: 2000 } });

export async function httpCall(call: HttpCall): Promise<HttpOutcome> {
  try {
    const res = await request(call.url, {
      method: call.method,
      headers: call.headers ?? {},
      body: call.body,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
      signal: AbortSignal.timeout(call.timeoutMs + 500),
      dispatcher: agent,
    });
    const body = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string") headers[name] = value;
    return { kind: "answer", status: res.statusCode, headers, body };
  } catch (error) {
    return { kind: "error", error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

export async function closeHttp(): Promise<void> {
  await agent.close();
}
