import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { isMembershipMessage, parseMembershipMessage, type SyncMessage } from "./membership-messages.js";

const member = (id: string) => ({ id, address: { host: "h", peerPort: 9000, clientPort: 8000 }, state: "up", incarnation: 1 });

test("a sync message survives a MessagePack round trip and parses back to itself", () => {
  const sync: SyncMessage = { type: "membership.sync", members: [member("a"), member("b")] as SyncMessage["members"], ringStamp: { version: 3, origin: "a" } };
  const packr = new Packr({ useRecords: false });
  assert.deepEqual(parseMembershipMessage(packr.unpack(packr.pack(sync)), 16), sync);
});

test("malformed member records are dropped one by one and lists are cut at membersMax", () => {
  const parsed = parseMembershipMessage({ type: "membership.ping", updates: [member("a"), { id: "b" }, member("c"), member("d")] }, 2);
  assert.deepEqual(parsed, { type: "membership.ping", updates: [member("a")] });
});

test("messages of other modules, unknown types and malformed fields are refused", () => {
  assert.equal(isMembershipMessage({ type: "replica.put" }), false);
  assert.equal(parseMembershipMessage({ type: "replica.put" }, 8), undefined);
  assert.equal(parseMembershipMessage({ type: "membership.nonsense" }, 8), undefined);
  assert.equal(parseMembershipMessage({ type: "membership.ping-req", updates: [] }, 8), undefined);
  assert.equal(parseMembershipMessage({ type: "membership.ping-req-reply", reached: "yes" }, 8), undefined);
  assert.equal(parseMembershipMessage({ type: "membership.sync", members: [], ringStamp: { version: "1", origin: "a" } }, 8), undefined);
  assert.equal(parseMembershipMessage({ type: "membership.ring", ring: {} }, 8), undefined);
  assert.equal(parseMembershipMessage(null, 8), undefined);
});

test("a sync reply without a ring carries null", () => {
  assert.deepEqual(parseMembershipMessage({ type: "membership.sync-reply", members: [], ringStamp: null }, 8), {
    type: "membership.sync-reply", members: [], ringStamp: null, ring: null,
  });
});
