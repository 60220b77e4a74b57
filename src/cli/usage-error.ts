/**
 * A mistake in how the command was called (unknown command or flag, a bad flag value, a bad
 * config file). The CLI prints the message with a pointer to `--help` and exits with code 2,
 * apart from server errors (code 1), so scripts can tell "you called me wrong" from "it failed".
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    /** The command whose --help to point at; undefined for `shoal --help`. */
    readonly command?: string,
  ) {
    super(message);
  }
}
