import { ShoalError } from "../errors.js";
import type { Command, CliIo } from "./command.js";
import { UsageError } from "./usage-error.js";
import { startCommand } from "./start.js";
import { tablesCommand } from "./tables.js";
import { putCommand } from "./put.js";
import { getCommand } from "./get.js";
import { deleteCommand } from "./delete.js";
import { listCommand } from "./list.js";
import { benchCommand } from "./bench.js";
import { clusterCommand } from "./cluster.js";

export const commands: readonly Command[] = [startCommand, tablesCommand, putCommand, getCommand, deleteCommand, listCommand, benchCommand, clusterCommand];

/** Exit codes: 0 success, 1 the operation failed (server error, unreachable node), 2 bad usage. */
export const exitCodes = { ok: 0, failed: 1, usage: 2 } as const;

export function mainUsage(): string {
  const width = Math.max(...commands.map((command) => command.name.length)) + 2;
  const lines = commands.map((command) => `  ${command.name.padEnd(width)}${command.summary}`);
  return `Usage: shoal <command> [options]

Shoal is a leaderless, Dynamo-style replicated key-value store.

Commands:
${lines.join("\n")}

Run "shoal <command> --help" for a command's options.

Example:
  shoal start --data-dir ./data &
  shoal tables create cart
  shoal put cart user/42 hello && shoal get cart user/42
`;
}

/**
 * Dispatches `argv` (without node and the script) to a command and maps what it throws to an
 * exit code: UsageError -> 2 with a pointer to --help, ShoalError (from the server or the data
 * directory) -> 1 as "error CODE: message", a system error -> 1 as "error ECODE: message".
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      (name === undefined ? io.stderr : io.stdout).write(mainUsage());
      return name === undefined ? exitCodes.usage : exitCodes.ok;
    }
    const command = commands.find((candidate) => candidate.name === name);
    if (command === undefined) {
      const hint = name.startsWith("-") ? `unknown option ${JSON.stringify(name)}` : `unknown command ${JSON.stringify(name)}`;
      throw new UsageError(`${hint}; commands: ${commands.map((c) => c.name).join(", ")}`);
    }
    return await command.run(rest, io);
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CliIo): number {
  if (error instanceof UsageError) {
    const help = error.command === undefined ? "shoal --help" : `shoal ${error.command} --help`;
    io.stderr.write(`shoal: ${error.message}\nRun "${help}" for usage.\n`);
    return exitCodes.usage;
  }
  if (error instanceof ShoalError) {
    io.stderr.write(`error ${error.code}: ${error.message}\n`);
    return exitCodes.failed;
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === "string" && error instanceof Error) {
    io.stderr.write(`error ${code}: ${error.message}\n`);
    return exitCodes.failed;
  }
  io.stderr.write(`shoal: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return exitCodes.failed;
}
