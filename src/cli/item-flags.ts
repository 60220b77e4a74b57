import type { GetItemOptions, WriteQuorum } from "../client/http-client.js";
import { choiceFlag, integerFlag, stringFlag, type FlagValues } from "./parse-command-args.js";

/**
 * Flags the item commands share: the causal context a write follows (the X-Shoal-Context a
 * read printed) and per-request quorums. The node checks them against the table (r at most n);
 * here only their form. A quorum above replicasFlagMax could never be met (a table keeps at most
 * that many replicas), so it is refused before asking.
 */
const replicasFlagMax = 64;

export const contextFlag = { context: { type: "string" } } as const;
export const contextHelp = `  --context CONTEXT    the context a read printed: replace exactly the versions that read saw`;

export const readQuorumFlags = { r: { type: "string" }, pr: { type: "string" }, consistency: { type: "string" } } as const;
export const readQuorumHelp = `  --r N, --pr N        replies to wait for (pr: from primary replicas only)
  --consistency C      strong (linearizable; strong tables) or eventual`;

export const writeQuorumFlags = { w: { type: "string" }, dw: { type: "string" }, pw: { type: "string" } } as const;
export const writeQuorumHelp = `  --w N, --dw N, --pw N  acknowledgements to wait for (dw: durable; pw: from primary replicas)`;

export function readOptionsFromFlags(command: string, flags: FlagValues): GetItemOptions {
  const options: GetItemOptions = {};
  const bounds = { min: 0, max: replicasFlagMax };
  const r = integerFlag(command, flags, "r", bounds);
  if (r !== undefined) options.r = r;
  const pr = integerFlag(command, flags, "pr", bounds);
  if (pr !== undefined) options.pr = pr;
  const consistency = choiceFlag(command, flags, "consistency", ["strong", "eventual"] as const);
  if (consistency !== undefined) options.consistency = consistency;
  return options;
}

export function writeOptionsFromFlags(command: string, flags: FlagValues): WriteQuorum & { context?: string } {
  const options: WriteQuorum & { context?: string } = {};
  const bounds = { min: 0, max: replicasFlagMax };
  for (const name of ["w", "dw", "pw"] as const) {
    const value = integerFlag(command, flags, name, bounds);
    if (value !== undefined) options[name] = value;
  }
  const context = stringFlag(flags, "context");
  if (context !== undefined) options.context = context;
  return options;
}
