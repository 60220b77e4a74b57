import { ServerResponse, type IncomingMessage } from "node:http";

/**
 * node:http's response with the two facts metrics need (the route pattern and the start time)
 * kept on the object itself, so no per-request closure or side map carries them.
 */
export class ShoalResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  /** The matched route pattern (a bounded label), e.g. `/v1/tables/{table}/items/{key}`. */
  route = "unmatched";
  /** `performance.now()` when the request arrived. */
  startMs = 0;
  /** Set once the in-flight count included this request. */
  counted = false;
  /** Told when the response closes (metrics, in-flight count); set by the RestApi. */
  observer: ResponseObserver | undefined = undefined;
}

export interface ResponseObserver {
  responseClosed(res: ShoalResponse): void;
}
