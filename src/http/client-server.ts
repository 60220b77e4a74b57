import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NodeShoalResponse, type ShoalRequest, type ShoalResponse } from "../api/shoal-response.js";
import { ShoalError } from "../errors.js";
import { ShoalHttpServer, type HttpServerOptions } from "./http-server.js";

/**
 * The client port's HTTP server: Shoal's own (http-server.ts, the default) or node:http
 * (`SHOAL_HTTP_SERVER=node`, kept for comparison and as a fallback), both calling the same
 * handler with the same request and response surface (api/shoal-response.ts).
 *
 * Example:
 *   const server = createClientServer(clientServerKindOf(process.env), api.handle);
 *   server.listen(8000, "127.0.0.1", () => console.log(server.address()));
 */
export type ClientServerKind = "shoal" | "node";

/** What ShoalNode uses of a server (node:http's Server has it too). */
export interface ClientServer {
  listen(port: number, host: string, listening: () => void): unknown;
  address(): AddressInfo | string | null;
  close(callback: () => void): unknown;
  closeIdleConnections(): void;
  closeAllConnections(): void;
  once(event: "error", listener: (error: Error) => void): unknown;
  off(event: "error", listener: (error: Error) => void): unknown;
}

export type ShoalHandler = (req: ShoalRequest, res: ShoalResponse) => void;

export function createClientServer(kind: ClientServerKind, handle: ShoalHandler, options: Pick<HttpServerOptions, "onHandlerError"> = {}): ClientServer {
  if (kind === "node") {
    const server = createServer({ ServerResponse: NodeShoalResponse, keepAlive: true }, handle);
    // Handlers decide on Expect: 100-continue themselves (after checking the declared length).
    server.on("checkContinue", handle);
    return server;
  }
  return new ShoalHttpServer(handle, options);
}

/** SHOAL_HTTP_SERVER: "shoal" (default) or "node"; anything else is a BadConfig error naming both. */
export function clientServerKindOf(env: NodeJS.ProcessEnv): ClientServerKind {
  const value = env.SHOAL_HTTP_SERVER;
  if (value === undefined || value === "" || value === "shoal") return "shoal";
  if (value === "node") return "node";
  throw new ShoalError("BadConfig", 400, `SHOAL_HTTP_SERVER is ${JSON.stringify(value.slice(0, 64))}; it must be shoal or node`);
}
