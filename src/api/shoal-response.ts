import { ServerResponse, type IncomingMessage } from "node:http";

/**
 * node:http's response with the facts metrics need (the route pattern and the start time) kept
 * on the object itself, so no per-request closure or side map carries them, and the observer
 * told when the response closes (whether it finished or the client went away).
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

  // Observing "close" here instead of with res.once() saves adding and removing a listener
  // (and a wrapper closure) per request on the hot path.
  override emit(event: string | symbol, ...args: any[]): boolean {
    if (event === "close" && this.observer !== undefined) this.observer.responseClosed(this);
    return super.emit(event, ...args);
  }
}

export interface ResponseObserver {
  responseClosed(res: ShoalResponse): void;
}
