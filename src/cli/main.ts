#!/usr/bin/env node
import { runCli } from "./run-cli.js";

// The `shoal` bin. Exit explicitly: a finished command must not linger on a keep-alive socket
// or a timer, and `start` returns only after the node has drained and storage has closed.
const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.exitCode = code;
process.stdout.write("", () => process.exit(code));
