/** The process's standard streams, passed in so commands can run inside a test. */
export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

/**
 * One `shoal` subcommand, in its own file (start.ts, put.ts, ...). `run` returns the exit code;
 * it throws UsageError for a bad call and lets a ShoalError from the server propagate, and the
 * dispatcher (run-cli.ts) turns those into exit codes 2 and 1.
 */
export interface Command {
  name: string;
  /** One line for `shoal --help`. */
  summary: string;
  /** The full text of `shoal <name> --help`. */
  usage: string;
  run(argv: string[], io: CliIo): Promise<number>;
}
