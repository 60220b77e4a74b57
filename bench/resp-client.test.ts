import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeCommand, parseReply, RespError } from "./resp-client.js";

test("encodeCommand writes a RESP array of bulk strings", () => {
  assert.equal(encodeCommand(["SET", "k", Buffer.from("v\r\n")]).toString("latin1"), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
});

test("parseReply reads each reply type and waits for a reply split across chunks", () => {
  const wire = Buffer.from("+OK\r\n-ERR no\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n$1\r\nx\r\n:7\r\n");
  const values = [];
  let offset = 0;
  for (;;) {
    const parsed = parseReply(wire, offset);
    if (parsed === undefined) break;
    values.push(parsed.value);
    offset = parsed.next;
  }
  assert.equal(offset, wire.length);
  assert.equal(values[0], "OK");
  assert.ok(values[1] instanceof RespError && values[1].message === "ERR no");
  assert.equal(values[2], 42);
  assert.deepEqual(values[3], Buffer.from("abc"));
  assert.equal(values[4], null);
  assert.deepEqual(values[5], [Buffer.from("x"), 7]);
  for (let cut = 1; cut < 9; cut++) assert.equal(parseReply(Buffer.from("$3\r\nabc\r\n").subarray(0, cut), 0), undefined);
});
