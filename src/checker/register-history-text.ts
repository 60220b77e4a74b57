import { assert } from "../assert.js";
import {
  type Absent,
  type RegisterOperation,
  type RegisterValue,
  absent,
  failedOutput,
  unknownOutput,
} from "./history.js";

/**
 * A one-line-per-operation notation for hand-made register histories, so a test reads like the
 * timeline it describes:
 *
 *     c1 put(a) -> ok [0, 10]
 *     c2 x.get() -> a [5, 15]          key "x" (default key "k")
 *     c3 cas(absent, 1) -> ? [7, inf)  unknown outcome: returns at infinity
 *     c4 increment(2) -> error [8, 9]  failed: did not take effect
 *
 * Values: `absent`, numbers (`7`), bare words (`a`), or JSON strings (`"7"`). Outputs: `ok`,
 * `fail`, `deleted`, `not-found`, a value, `?` (unknown), `error` (failed). `#` starts a comment.
 * Operation ids are line numbers among operations, from 0.
 */
export function parseRegisterHistory(text: string): RegisterOperation[] {
  const ops: RegisterOperation[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line !== "") ops.push(parseLine(line, ops.length));
  }
  return ops;
}

const linePattern = /^(\S+)\s+(?:(\S+?)\.)?(get|put|delete|cas|increment)\(([^)]*)\)\s*->\s*(\S+)\s*\[\s*(-?[\d.]+)\s*,\s*([^\])]*?)\s*[\])]$/;

function parseLine(line: string, id: number): RegisterOperation {
  const match = linePattern.exec(line);
  assert(match !== null, `cannot parse history line ${JSON.stringify(line)}`);
  const [, client, key, kind, argText, outputText, callText, returnText] = match as unknown as string[];
  const args = argText!.trim() === "" ? [] : argText!.split(",").map((arg) => parseValue(arg.trim()));
  const output = parseOutput(outputText!, kind!);
  const unknown = output === unknownOutput;
  const returnAt = unknown ? Infinity : Number(returnText);
  assert(unknown || Number.isFinite(returnAt), `line ${JSON.stringify(line)}: a determinate operation needs a finite return time`);
  const base = { id, client: client!, key: key ?? "k", output, callAt: Number(callText), returnAt };
  return { ...base, ...parseCall(kind!, args, line) } as RegisterOperation;
}

function parseCall(kind: string, args: Array<RegisterValue | Absent>, line: string): Pick<RegisterOperation, "kind" | "input"> {
  const arity = { get: 0, put: 1, delete: 0, cas: 2, increment: 1 }[kind];
  assert(args.length === arity, `line ${JSON.stringify(line)}: ${kind} takes ${arity} arguments`);
  switch (kind) {
    case "put":
      return { kind, input: { value: args[0]! } };
    case "cas":
      return { kind, input: { expected: args[0]!, value: args[1]! } };
    case "increment":
      assert(typeof args[0] === "number", `line ${JSON.stringify(line)}: increment takes a number`);
      return { kind, input: { by: args[0] } };
    default:
      return { kind: kind as "get" | "delete", input: null };
  }
}

function parseOutput(text: string, kind: string): unknown {
  if (text === "?") return unknownOutput;
  if (text === "error") return failedOutput("error");
  if (kind === "get" || kind === "increment") return parseValue(text);
  return text;
}

function parseValue(text: string): RegisterValue | Absent {
  if (text === "absent") return absent;
  if (text.startsWith('"')) return JSON.parse(text) as string;
  const number = Number(text);
  return Number.isFinite(number) && text !== "" ? number : text;
}
