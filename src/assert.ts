/**
 * Always-on assertions (TigerBeetle style): they catch programmer errors, never operating
 * errors, and stay enabled in production. A failed assertion means the process has a bug and
 * must not keep serving from a state nobody reasoned about.
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

export function assert(condition: unknown, message = "assertion failed"): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = "unreachable"): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
