import type { TableDefinition } from "../catalog/table-definition.js";
import type { ItemOperations } from "../coordinator/item-operations.js";
import { ShoalError } from "../errors.js";
import type { StoreResult } from "../replica/store-result.js";
import { unconditional } from "../replica/item-write.js";
import type { RingState } from "../ring/ring-state.js";
import type { NodeId } from "../runtime/network.js";
import {
  clientMessageTypes,
  type ClientDeleteRequest,
  type ClientFailure,
  type ClientGetRequest,
  type ClientListRequest,
  type ClientMemberInfo,
  type ClientPutRequest,
  type ClientReply,
  type ClientRingAnswer,
} from "./client-messages.js";
import { parseClientRequest, type ClientLimits } from "./parse-client-request.js";

/**
 * The node's side of the Shoal client protocol (client-messages.ts): parses each "client."
 * message, runs it through the node's ItemOperations (the cluster coordinator: the node the
 * partition-aware client picked is a coordinator for the key, DESIGN.md "The eventual path"),
 * and answers with the outcome and this node's ring version. Expected failures (a missing
 * table, a quorum not met, a malformed message) are answers `{ ok: false, error }`, never
 * thrown, so the client can tell them from a transport failure. A ShoalError thrown by the
 * coordinator is answered the same way with its code.
 *
 * Wiring (the node's peer dispatcher routes the "client." prefix here):
 *   const clients = new ClientProtocolHandler({ tables: catalog, items: coordinator, limits,
 *     ring: () => cluster.membership.ring(), members: () => cluster.membership.members() });
 *   dispatcher.route("client.", clients.handle);
 */
export interface ClientMemberSource {
  readonly id: NodeId;
  readonly address: { readonly host: string; readonly peerPort: number; readonly clientPort: number };
  readonly state: ClientMemberInfo["state"];
}

export interface ClientProtocolHandlerOptions {
  tables: { get(name: string): TableDefinition | undefined };
  items: ItemOperations;
  ring(): RingState | undefined;
  /** Every member gossip knows, with its addresses and state (Membership.members()). */
  members(): readonly ClientMemberSource[];
  limits: ClientLimits;
}

export class ClientProtocolHandler {
  constructor(private readonly options: ClientProtocolHandlerOptions) {}

  /** The RequestHandler for the "client." route (bound). */
  readonly handle = async (_from: NodeId, message: unknown): Promise<ClientReply> => {
    const parsed = parseClientRequest(message, this.options.limits);
    if (!parsed.ok) return this.failed({ code: "BadRequest", message: parsed.message });
    const request = parsed.request;
    try {
      switch (request.type) {
        case clientMessageTypes.ping:
          return this.answered(null);
        case clientMessageTypes.ring:
          return this.answered(this.ringAnswer());
        case clientMessageTypes.get:
          return await this.get(request);
        case clientMessageTypes.put:
          return await this.put(request);
        case clientMessageTypes.delete:
          return await this.delete(request);
        case clientMessageTypes.list:
          return await this.list(request);
      }
    } catch (error) {
      // The coordinator speaks in values; a ShoalError is an edge check it made anyway.
      if (error instanceof ShoalError) return this.failed({ code: error.code, message: error.message });
      throw error;
    }
  };

  private async get(request: ClientGetRequest): Promise<ClientReply> {
    const table = this.tables(request.table);
    if (table === undefined) return this.tableNotFound(request.table);
    const options = { quorum: request.quorum ?? {}, ...(request.consistency !== undefined ? { consistency: request.consistency } : {}) };
    const result = await this.options.items.get(table, request.key, options);
    return this.outcome(result, (read) => ({ siblings: read.siblings, context: read.context }));
  }

  private async put(request: ClientPutRequest): Promise<ClientReply> {
    const table = this.tables(request.table);
    if (table === undefined) return this.tableNotFound(request.table);
    const write = {
      value: request.value,
      contentType: request.contentType ?? defaultContentType,
      metadata: request.metadata ?? {},
      expiresAtMs: request.expiresAtMs ?? null,
    };
    const result = await this.options.items.put(table, request.key, write, writeOptionsOf(request));
    return this.outcome(result, (put) => ({ item: put.item, created: put.created, context: put.context }));
  }

  private async delete(request: ClientDeleteRequest): Promise<ClientReply> {
    const table = this.tables(request.table);
    if (table === undefined) return this.tableNotFound(request.table);
    const result = await this.options.items.delete(table, request.key, writeOptionsOf(request));
    return this.outcome(result, (deleted) => ({ existed: deleted.existed }));
  }

  private async list(request: ClientListRequest): Promise<ClientReply> {
    const table = this.tables(request.table);
    if (table === undefined) return this.tableNotFound(request.table);
    const page = await this.options.items.list(table, {
      prefix: request.prefix ?? new Uint8Array(0),
      ...(request.after !== undefined ? { after: request.after } : {}),
      limit: request.limit ?? this.options.limits.listPageItemsDefault,
    });
    return this.outcome(page, (value) => ({ items: value.items.map((item) => ({ key: item.key, siblings: item.siblings })), resumeAfter: value.resumeAfter }));
  }

  private ringAnswer(): ClientRingAnswer {
    const members = this.options.members().map((member): ClientMemberInfo => {
      const { host, peerPort, clientPort } = member.address;
      const urlHost = host.includes(":") ? `[${host}]` : host;
      return { id: member.id, host, peerPort, clientUrl: `http://${urlHost}:${clientPort}`, state: member.state };
    });
    return { ring: this.options.ring() ?? null, members };
  }

  private tables(name: string): TableDefinition | undefined {
    return this.options.tables.get(name);
  }

  private tableNotFound(name: string): ClientReply {
    return this.failed({ code: "TableNotFound", message: `table ${JSON.stringify(name)} does not exist` });
  }

  private outcome<T, A>(result: StoreResult<T>, answer: (value: T) => A): ClientReply<A> {
    return result.ok ? this.answered(answer(result.value)) : this.failed({ code: result.error.code, message: result.error.message });
  }

  private answered<T>(value: T): ClientReply<T> {
    return { ok: true, ringVersion: this.ringVersion(), value };
  }

  private failed(error: ClientFailure): ClientReply<never> {
    return { ok: false, ringVersion: this.ringVersion(), error };
  }

  private ringVersion(): number {
    return this.options.ring()?.version ?? 0;
  }
}

const defaultContentType = "application/octet-stream";

function writeOptionsOf(request: ClientPutRequest | ClientDeleteRequest) {
  return {
    quorum: request.quorum ?? {},
    condition: request.condition ?? unconditional,
    ...(request.context !== undefined ? { context: request.context } : {}),
  };
}
