import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { startFakeApi, type FakeApi } from "../api/fake-api-server.js";
import { createTable } from "../api/test-requests.js";
import { runCli } from "./run-cli.js";

// The item commands against the REST API over a fake coordinator: contexts and siblings.
let api: FakeApi;
before(async () => {
  api = await startFakeApi();
  await createTable(api.url, "cli");
});
after(() => api.close());

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk));
  stderr.on("data", (chunk: Buffer) => err.push(chunk));
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const code = await runCli([...argv, "--url", api.url], { stdout, stderr, stdin });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

const text = (value: string) => ({ value: Buffer.from(value), contentType: "text/plain", metadata: {}, expiresAtMs: null });

test("get prints one value as bytes and, with --headers, its context", async () => {
  assert.equal((await run("put", "cli", "one", "hello", "--content-type", "text/plain", "--w", "2")).code, 0);
  assert.deepEqual(api.items.calls.at(-1)?.write?.quorum, { w: 2 });
  const got = await run("get", "cli", "one", "--headers", "--r", "1");
  assert.equal(got.code, 0);
  assert.equal(got.stdout, "hello");
  assert.match(got.stderr, /^context: c\.1$/m);
  assert.deepEqual(api.items.calls.at(-1)?.read, { quorum: { r: 1 } });
});

test("get prints siblings as JSON lines and the context that resolves them; put --context does", async () => {
  api.items.seedSiblings(api.table("cli"), { partitionKey: new Uint8Array(Buffer.from("two")) }, [text("a"), { ...text("\u00ff"), value: Uint8Array.from([0xff]) }]);
  const got = await run("get", "cli", "two");
  assert.equal(got.code, 0);
  const lines = got.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(lines.map((l) => [l.value, l.encoding]), [["a", "utf8"], ["/w==", "base64"]]);
  assert.match(got.stderr, /2 siblings; resolve them with: shoal put cli two VALUE --context c\.2/);
  assert.equal((await run("put", "cli", "two", "merged", "--context", "c.2")).code, 0);
  const after = await run("get", "cli", "two");
  assert.equal(after.stdout, "merged");
  assert.equal((await run("delete", "cli", "two", "--context", "c.3")).code, 0);
  assert.equal(api.items.calls.at(-1)?.write?.context, "c.3");
  const gone = await run("get", "cli", "two");
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^error ItemNotFound: /);
});

test("list --json shows the siblings of an item that has them", async () => {
  api.items.seedSiblings(api.table("cli"), { partitionKey: new Uint8Array(Buffer.from("three")) }, [text("x"), text("y")]);
  const listed = await run("list", "cli", "--prefix", "three", "--json");
  assert.equal(listed.code, 0);
  assert.deepEqual(JSON.parse(listed.stdout).siblings.map((s: { value: string }) => s.value), ["x", "y"]);
  const plain = await run("list", "cli", "--prefix", "three");
  assert.equal(plain.stdout, "three\n");
  assert.match(plain.stderr, /"three" has 2 siblings/);
});

test("bad quorum and consistency flags are usage errors", async () => {
  assert.equal((await run("get", "cli", "one", "--r", "x")).code, 2);
  assert.equal((await run("get", "cli", "one", "--consistency", "linear")).code, 2);
  assert.equal((await run("put", "cli", "one", "v", "--dw", "-1")).code, 2);
});
