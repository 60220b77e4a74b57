/**
 * The ownership transfer's one message (issue 6, item 2): a node that filled every partition
 * it gains in ring `ringVersion`'s transition tells the ring leader, again each interval until
 * the ring settles (so a lost message or a new leader costs one interval, not the transition).
 *
 *   { type: "handoff.done", ringVersion }   one-way, to the ring leader
 */
export interface TransferDoneMessage {
  type: "handoff.done";
  ringVersion: number;
}

export const ownershipMessagePrefix = "handoff.";

export function transferDoneMessage(ringVersion: number): TransferDoneMessage {
  return { type: "handoff.done", ringVersion };
}

/** The message, or undefined when it is not a well-formed "handoff.done" (a peer's bug: dropped). */
export function parseTransferDone(message: unknown): TransferDoneMessage | undefined {
  if (typeof message !== "object" || message === null) return undefined;
  const m = message as Partial<TransferDoneMessage>;
  if (m.type !== "handoff.done" || !Number.isSafeInteger(m.ringVersion) || (m.ringVersion as number) < 0) return undefined;
  return { type: "handoff.done", ringVersion: m.ringVersion as number };
}
