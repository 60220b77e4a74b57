/**
 * The ownership transfer's one message (issue 6, item 2): a node that filled every partition
 * it gains in ring `ringVersion`'s transition tells the ring leader, again each interval until
 * the ring settles (so a lost message or a new leader costs one interval, not the transition).
 *
 *   { type: "handoff.done", ringVersion, tables? }   one-way, to the ring leader
 *
 * `tables` lists the ids of the tables the node transferred (its catalog's): the leader counts
 * the report only when it covers every table the leader knows, so a new node whose catalog has
 * not caught up yet (a join or a replacement right after its start) cannot settle the ring
 * before it pulled every table. A report without it (an older node) counts as before.
 */
export interface TransferDoneMessage {
  type: "handoff.done";
  ringVersion: number;
  tables?: number[];
}

/** Table ids one report may carry. */
export const doneTablesMax = 65_536;

export const ownershipMessagePrefix = "handoff.";

export function transferDoneMessage(ringVersion: number, tables?: readonly number[]): TransferDoneMessage {
  return tables === undefined ? { type: "handoff.done", ringVersion } : { type: "handoff.done", ringVersion, tables: [...tables] };
}

/** The message, or undefined when it is not a well-formed "handoff.done" (a peer's bug: dropped). */
export function parseTransferDone(message: unknown): TransferDoneMessage | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as Partial<TransferDoneMessage>;
  if (m.type !== "handoff.done" || !Number.isSafeInteger(m.ringVersion) || (m.ringVersion as number) < 0) return undefined;
  if (m.tables === undefined) return { type: "handoff.done", ringVersion: m.ringVersion as number };
  if (!Array.isArray(m.tables) || m.tables.length > doneTablesMax || !m.tables.every((id) => Number.isSafeInteger(id))) return undefined;
  return { type: "handoff.done", ringVersion: m.ringVersion as number, tables: m.tables };
}
