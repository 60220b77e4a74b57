import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { commands, runCli } from "./run-cli.js";

/** Runs the CLI in-process with captured streams. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const code = await runCli(argv, { stdout, stderr, stdin });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

test("shoal --help lists every command and exits 0; no command at all is a usage error", async () => {
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  for (const command of commands) assert.match(help.stdout, new RegExp(`\\n  ${command.name} +${command.summary.replace(/[()]/g, "\\$&")}`));
  const bare = await run([]);
  assert.equal(bare.code, 2);
  assert.match(bare.stderr, /Usage: shoal <command>/);
});

test("every command answers --help with its usage and does nothing else", async () => {
  for (const command of commands) {
    const help = await run([command.name, "--help", "--url", "http://127.0.0.1:1"]);
    assert.equal(help.code, 0, `${command.name}: ${help.stderr}`);
    assert.equal(help.stdout, command.usage);
  }
});

test("an unknown command, flag or flag value exits 2 and points at the right --help", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["nope"], /unknown command "nope"[\s\S]*shoal --help/],
    [["--verbose"], /unknown option "--verbose"/],
    [["get", "t", "k", "--verbose"], /Unknown option '--verbose'[\s\S]*shoal get --help/],
    [["get", "t"], /get needs 2 arguments; got 1/],
    [["delete", "t", "k", "extra"], /delete takes at most 2 arguments; unexpected "extra"/],
    [["start", "--port", "http"], /--port must be an integer from 0 to 65535; got "http"/],
    [["start", "--log-level", "loud"], /logLevel must be one of/],
    [["tables", "list", "--n", "3"], /--n applies only to "tables create"/],
    [["tables", "create", "cart", "--n", "0"], /--n must be an integer from 1 to 64/],
    [["tables", "rename", "a"], /unknown tables action "rename"/],
    [["put", "t", "k", "--meta", "novalue"], /--meta takes NAME=VALUE/],
    [["put", "t", "k"], /no value: give VALUE, --file F, or pipe the value on stdin/],
    [["list", "t", "--limit", "5000"], /--limit must be an integer from 1 to 1000/],
    [["get", "t", "k", "--url", "ftp://x"], /--url must be an http:\/\/host:port address/],
    [["bench", "--systems", "mysql"], /--systems takes shoal, ceiling, redis; got "mysql"/],
  ];
  for (const [argv, pattern] of cases) {
    const result = await run(argv);
    assert.equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, pattern, argv.join(" "));
  }
});

test("a node that cannot be reached is exit 1 with 'error Unreachable'", async () => {
  const result = await run(["get", "t", "k", "--url", "http://127.0.0.1:1"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error Unreachable: cannot GET http:\/\/127\.0\.0\.1:1\/v1\/tables\/t\/items\/k: ECONNREFUSED/);
});
