import { PassThrough } from "node:stream";
import { runCli } from "./run-cli.js";

/** Runs the CLI in-process with captured output and a TTY stdin (so no command reads stdin). */
export async function runCaptured(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, { stdout, stderr, stdin: Object.assign(new PassThrough(), { isTTY: true }) });
  return { code, stdout: out, stderr: err };
}
