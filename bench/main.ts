import { runCli } from "../src/cli/run-cli.js";

// `npm run bench` (node dist/bench/main.js [options]) is `shoal bench [options]`: same code,
// same exit codes and error messages. `npm run bench -- --elastic [options]` is the issue-6
// benchmark (anti-entropy heal, on/off, a 4th node joining): bench/elastic-main.ts.
const args = process.argv.slice(2);
if (args.includes("--elastic")) {
  const { runElasticCli } = await import("./elastic-main.js");
  await runElasticCli(args.filter((arg) => arg !== "--elastic"));
  process.exit(0);
}
const code = await runCli(["bench", ...args], { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin });
process.exit(code);
