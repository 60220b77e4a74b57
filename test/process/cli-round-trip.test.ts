import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ProcessGroup, cliPath, repoRoot, runShoal, startNode, type NodeProcess } from "./shoal-process.js";

/** Issue 2, item 2: the `shoal` client commands against a running node, as a user types them. */
const group = new ProcessGroup();
let node: NodeProcess;
let url: string;

before(async () => {
  node = await startNode(group, join(group.tempDir("shoal-cli-"), "data"));
  url = node.url;
});

after(async () => {
  node.child.kill("SIGTERM");
  await node.exited;
  await group.cleanUp();
});

test("tables create, list and describe round-trip through the CLI", async () => {
  const created = await runShoal(group, ["tables", "create", "demo", "--n", "1", "--conflicts", "lww", "--url", url]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(JSON.parse(created.stdout.toString()).name, "demo");
  const listed = await runShoal(group, ["tables", "--url", url]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(listed.stdout.toString().split("\n").includes("demo"));
  const described = await runShoal(group, ["tables", "describe", "demo", "--url", url]);
  assert.equal(JSON.parse(described.stdout.toString()).name, "demo");
});

test("put from an argument, stdin and a file; get prints the exact bytes", async () => {
  const text = await runShoal(group, ["put", "demo", "user/42", "hello", "--content-type", "text/plain", "--meta", "owner=ann", "--url", url]);
  assert.equal(text.code, 0, text.stderr);
  const got = await runShoal(group, ["get", "demo", "user/42", "--headers", "--url", url]);
  assert.equal(got.stdout.toString(), "hello");
  assert.match(got.stderr, /content-type: text\/plain/);
  assert.match(got.stderr, /meta owner: ann/);

  const binary = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) & 0xff));
  assert.equal((await runShoal(group, ["put", "demo", "bin", "--url", url], binary)).code, 0);
  assert.deepEqual((await runShoal(group, ["get", "demo", "bin", "--url", url])).stdout, binary);

  const file = join(group.tempDir("shoal-cli-file-"), "value.bin");
  writeFileSync(file, binary.subarray(0, 100));
  assert.equal((await runShoal(group, ["put", "demo", "file", "--file", file, "--url", url])).code, 0);
  assert.deepEqual((await runShoal(group, ["get", "demo", "file", "--url", url])).stdout, binary.subarray(0, 100));
});

test("list prints keys in byte order, filtered by prefix; delete removes; a missing item is exit 1", async () => {
  for (const key of ["list/b", "list/a", "list/c"]) assert.equal((await runShoal(group, ["put", "demo", key, "x", "--url", url])).code, 0);
  const all = await runShoal(group, ["list", "demo", "--prefix", "list/", "--all", "--limit", "1", "--url", url]);
  assert.deepEqual(all.stdout.toString().trim().split("\n"), ["list/a", "list/b", "list/c"]);
  const page = await runShoal(group, ["list", "demo", "--prefix", "list/", "--limit", "2", "--url", url]);
  assert.deepEqual(page.stdout.toString().trim().split("\n"), ["list/a", "list/b"]);
  assert.match(page.stderr, /more items: continue with --cursor \S+/);

  assert.equal((await runShoal(group, ["delete", "demo", "list/a", "--url", url])).code, 0);
  const missing = await runShoal(group, ["get", "demo", "list/a", "--url", url]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error \w+: .+/);
});

test("the process answers --help and exits 2 on bad calls (run-cli.test.ts covers every command in-process)", async () => {
  for (const command of ["start", "put"]) {
    const help = await runShoal(group, [command, "--help"]);
    assert.equal(help.code, 0, `${command} --help: ${help.stderr}`);
    assert.match(help.stdout.toString(), new RegExp(`^Usage: shoal ${command}`));
  }
  const main = await runShoal(group, ["--help"]);
  assert.equal(main.code, 0);
  assert.match(main.stdout.toString(), /Commands:/);

  const unknownCommand = await runShoal(group, ["frobnicate"]);
  assert.equal(unknownCommand.code, 2);
  assert.match(unknownCommand.stderr, /unknown command "frobnicate"/);
  const unknownFlag = await runShoal(group, ["get", "demo", "k", "--bogus"]);
  assert.equal(unknownFlag.code, 2);
  assert.match(unknownFlag.stderr, /--bogus[\s\S]*shoal get --help/);
  const badPort = await runShoal(group, ["start", "--port", "99999"]);
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /--port must be an integer from 0 to 65535; got "99999"/);
});

test("an unreachable node is exit 1 with an error naming the address", async () => {
  const result = await runShoal(group, ["tables", "--url", "http://127.0.0.1:1"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^error Unreachable: .*127\.0\.0\.1:1/);
});

test("the package's shoal bin is this CLI, with a node shebang", async () => {
  // `npx shoal` resolves package.json's bin; spawning npx here would rebuild the package in npx's
  // cache (the prepare script), so check the wiring and run the file the bin names.
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = join(repoRoot, manifest.bin.shoal!);
  assert.equal(bin, cliPath);
  assert.equal(readFileSync(bin, "utf8").split("\n")[0], "#!/usr/bin/env node");
  const help = await runShoal(group, ["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /Usage: shoal <command>/);
});
