import { test } from "node:test";
import assert from "node:assert/strict";
import { formatHostPort, parseSeedAddress, splitSeedList } from "./seed-address.js";

test("a seed is host:port, with IPv6 hosts in brackets", () => {
  assert.deepEqual(parseSeedAddress("127.0.0.1:9000"), { host: "127.0.0.1", port: 9000 });
  assert.deepEqual(parseSeedAddress("node-a.local:1"), { host: "node-a.local", port: 1 });
  assert.deepEqual(parseSeedAddress("[::1]:9001"), { host: "::1", port: 9001 });
});

test("a seed without a port, with a port out of range, or an unbracketed IPv6 host is refused", () => {
  for (const bad of ["127.0.0.1", "127.0.0.1:", ":9000", "h:0", "h:65536", "h:9x", "::1:9000", "a b:9000", "[]:9000"]) {
    assert.equal(parseSeedAddress(bad), undefined, bad);
  }
});

test("--join values may repeat and may each hold a comma-separated list", () => {
  assert.deepEqual(splitSeedList(["a:1,b:2", " c:3 ", ",,"]), ["a:1", "b:2", "c:3"]);
});

test("formatHostPort round-trips through parseSeedAddress", () => {
  for (const [host, port] of [["127.0.0.1", 9000], ["::1", 9001]] as const) {
    assert.deepEqual(parseSeedAddress(formatHostPort(host, port)), { host, port });
  }
});
