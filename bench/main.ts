import { runCli } from "../src/cli/run-cli.js";

// `npm run bench` (node dist/bench/main.js [options]) is `shoal bench [options]`: same code,
// same exit codes and error messages.
const code = await runCli(["bench", ...process.argv.slice(2)], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.exit(code);
