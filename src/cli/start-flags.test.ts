import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { runCli } from "./run-cli.js";

// `shoal start`'s anti-entropy flags are checked before anything opens (no data directory is
// touched: each case fails at parsing).

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const err: Buffer[] = [];
  stdout.resume();
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const code = await runCli(argv, { stdout, stderr, stdin });
  return { code, stderr: Buffer.concat(err).toString() };
}

test("bad --anti-entropy flags exit 2 with the flag and its limits named", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["start", "--anti-entropy", "maybe"], /--anti-entropy must be one of on, off; got "maybe"/],
    [["start", "--anti-entropy-interval-ms", "50"], /--anti-entropy-interval-ms must be an integer from 100 to 86400000; got "50"/],
    [["start", "--anti-entropy-concurrency", "0"], /--anti-entropy-concurrency must be an integer from 1 to 64; got "0"/],
    [["start", "--anti-entropy-bytes-per-second", "1k"], /--anti-entropy-bytes-per-second must be an integer from 1024 to 1073741824; got "1k"/],
  ];
  for (const [argv, pattern] of cases) {
    const result = await run(argv);
    assert.equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, pattern, argv.join(" "));
  }
});
