import { test } from "node:test";
import assert from "node:assert/strict";
import { runCaptured } from "./run-cli.test-support.js";

const run = runCaptured;

test("shoal cluster refuses bad calls with exit code 2 before starting anything", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["cluster", "--nodes", "8"], /--nodes must be an integer from 1 to 7; got "8"/],
    [["cluster", "--nodes", "0"], /--nodes must be an integer from 1 to 7/],
    [["cluster", "launch"], /unknown subcommand "launch"/],
    [["cluster", "status", "--nodes", "3"], /--nodes does not apply to "cluster status"/],
    [["cluster", "--url", "http://127.0.0.1:1"], /--url applies to "cluster status" only/],
    [["cluster", "--port", "9000", "--peer-port", "9001"], /overlap for 3 nodes/],
    [["cluster", "status", "--url", "ftp://x"], /--url must be an http:\/\/host:port address/],
  ];
  for (const [argv, message] of cases) {
    const result = await run(argv);
    assert.equal(result.code, 2, argv.join(" "));
    assert.match(result.stderr, message, argv.join(" "));
  }
});

test("shoal cluster status against a node that is not there fails with exit code 1", async () => {
  const result = await run(["cluster", "status", "--url", "http://127.0.0.1:1"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error /);
});
