import { execFileSync } from "node:child_process";

/**
 * Runs the root-only commands the fault harness needs (ip, iptables) synchronously, so a
 * setup step finishes before the next starts and a failure names the exact command. Output is
 * bounded; nothing here runs a shell, so arguments need no quoting.
 */
const outputBytesMax = 1024 * 1024;
const commandTimeoutMs = 10_000;

export function run(command: string, args: readonly string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: outputBytesMax, timeout: commandTimeoutMs });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`${command} ${args.join(" ")} failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
}

/** Like run, but a failure is only reported (teardown goes on removing the rest). */
export function tryRun(command: string, args: readonly string[]): boolean {
  try {
    run(command, args);
    return true;
  } catch {
    return false;
  }
}

/** Runs a command inside a network namespace. */
export function runIn(namespace: string, command: string, args: readonly string[]): string {
  return run("ip", ["netns", "exec", namespace, command, ...args]);
}
