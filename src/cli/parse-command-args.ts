import { parseArgs } from "node:util";
import { UsageError } from "./usage-error.js";

/** Flags of one command, in node:util parseArgs' shape; `--help` is added to every command. */
export type FlagSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean; short?: string }>;

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  positionals: string[];
  help: boolean;
}

export interface PositionalBounds {
  min: number;
  max: number;
}

/**
 * Strict parsing: an unknown flag, a missing flag value or a wrong number of positionals is a
 * UsageError naming the command, so the dispatcher exits with code 2. `--help` wins over
 * everything else, so `shoal put --help` works without the positionals.
 *
 * @example
 *   parseCommandArgs("get", ["cart", "k", "--url", "http://127.0.0.1:8000"], { url: { type: "string" } }, { min: 2, max: 2 })
 *   // { flags: { url: "http://127.0.0.1:8000" }, positionals: ["cart", "k"], help: false }
 */
export function parseCommandArgs(command: string, argv: string[], spec: FlagSpec, positionals: PositionalBounds): ParsedArgs {
  if (asksForHelp(argv)) return { flags: {}, positionals: [], help: true };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...spec, help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(parseErrorMessage(error), command);
  }
  checkPositionals(command, parsed.positionals, positionals);
  return { flags: parsed.values as FlagValues, positionals: parsed.positionals, help: false };
}

/** `--help` anywhere before a `--` terminator, even beside flags this command does not know. */
function asksForHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

function checkPositionals(command: string, given: string[], bounds: PositionalBounds): void {
  if (given.length < bounds.min) {
    throw new UsageError(`${command} needs ${bounds.min} argument${bounds.min === 1 ? "" : "s"}; got ${given.length}`, command);
  }
  if (given.length > bounds.max) {
    throw new UsageError(`${command} takes at most ${bounds.max} argument${bounds.max === 1 ? "" : "s"}; unexpected ${JSON.stringify(given[bounds.max])}`, command);
  }
}

function parseErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // parseArgs explains how to pass a positional that starts with '-'; keep only the first sentence.
  return message.split(". To specify a positional argument")[0]!.replace(/\.$/, "");
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === "string" ? value : undefined;
}

export function booleanFlag(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}

export function stringsFlag(flags: FlagValues, name: string): string[] {
  const value = flags[name];
  return Array.isArray(value) ? value : [];
}

/** An integer flag within bounds; a bad value is a UsageError that names the flag and the bounds. */
export function integerFlag(command: string, flags: FlagValues, name: string, bounds: { min: number; max: number }): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  return parseInteger(command, `--${name}`, text, bounds);
}

export function parseInteger(command: string, what: string, text: string, bounds: { min: number; max: number }): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new UsageError(`${what} must be an integer from ${bounds.min} to ${bounds.max}; got ${JSON.stringify(text)}`, command);
  }
  return value;
}

/** A flag whose value must be one of `choices`. */
export function choiceFlag<T extends string>(command: string, flags: FlagValues, name: string, choices: readonly T[]): T | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${choices.join(", ")}; got ${JSON.stringify(text)}`, command);
  }
  return text as T;
}
