import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import { AssertionError } from "../assert.js";
import * as dvvset from "./dotted-version-vector-set.js";
import type { DottedVersionVectorSet } from "./dotted-version-vector-set.js";
import { comparePlainData } from "./plain-data-order.js";

type Set = DottedVersionVectorSet<string>;
const isString = (value: unknown): value is string => typeof value === "string";
const sorted = (values: readonly string[]): string[] => [...values].sort();

/** A coordinator writes `value` on `server`, with the context of `read` when given. */
function write(server: Set, nodeId: string, value: string, read?: Set): Set {
  const proposal = read === undefined ? dvvset.newValue(value) : dvvset.newWithContext(dvvset.join(read), value);
  return dvvset.update(proposal, server, nodeId);
}

test("a first write gets the coordinator's first dot", () => {
  const set = write(dvvset.empty(), "a", "v1");
  assert.deepEqual(set, { entries: [["a", 1, ["v1"]]], anonymous: [] });
  assert.deepEqual(dvvset.dottedValues(set), [{ dot: ["a", 1], value: "v1" }]);
  assert.deepEqual(dvvset.join(set), [["a", 1]]);
});

test("two writes without context through one coordinator are both kept as siblings", () => {
  const set = write(write(dvvset.empty(), "a", "v1"), "a", "v2");
  assert.deepEqual(set.entries, [["a", 2, ["v2", "v1"]]]);
  assert.equal(dvvset.size(set), 2);
  assert.deepEqual(dvvset.dottedValues(set).map((d) => d.dot), [["a", 2], ["a", 1]]);
});

test("a write with the context of a read replaces exactly what that read saw", () => {
  const first = write(dvvset.empty(), "a", "v1");
  const read = first;
  const withSibling = write(first, "a", "v2"); // concurrent with the coming write
  const replaced = write(withSibling, "a", "v3", read);
  assert.deepEqual(sorted(dvvset.values(replaced)), ["v2", "v3"]);
  const all = write(replaced, "a", "v4", replaced);
  assert.deepEqual(dvvset.values(all), ["v4"]);
});

test("writes through different coordinators are concurrent, and sync keeps both", () => {
  const base = write(dvvset.empty(), "a", "v1");
  const viaB = write(base, "b", "from-b", base);
  const viaC = write(base, "c", "from-c", base);
  const merged = dvvset.sync(viaB, viaC);
  assert.deepEqual(merged.entries, [["a", 1, []], ["b", 1, ["from-b"]], ["c", 1, ["from-c"]]]);
  assert.ok(!dvvset.less(viaB, viaC) && !dvvset.less(viaC, viaB));
  assert.ok(dvvset.less(base, merged));
});

test("sync drops a value once the other side has seen it superseded", () => {
  const old = write(dvvset.empty(), "a", "v1");
  const newer = write(old, "b", "v2", old);
  assert.ok(dvvset.less(old, newer));
  assert.deepEqual(dvvset.sync(old, newer), newer);
  assert.deepEqual(dvvset.sync(newer, old), newer);
});

test("a context from a fresher replica supersedes values the coordinator receives only later", () => {
  const v1 = write(dvvset.empty(), "a", "v1");
  const v2 = write(v1, "a", "v2", v1); // replica a now holds v2; replica b still holds nothing
  const onB = write(dvvset.empty(), "b", "v3", v2); // the client read v2 from a and writes through b
  assert.deepEqual(onB.entries, [["a", 2, []], ["b", 1, ["v3"]]]);
  assert.deepEqual(dvvset.values(dvvset.sync(onB, v1)), ["v3"]);
  assert.deepEqual(dvvset.values(dvvset.sync(v2, onB)), ["v3"]);
});

test("discard removes what a context covers and contextCovers says when nothing would remain", () => {
  const set = write(write(dvvset.empty(), "a", "v1"), "b", "v2");
  assert.ok(dvvset.contextCovers(dvvset.join(set), set));
  assert.ok(!dvvset.contextCovers([["a", 1]], set));
  assert.deepEqual(dvvset.values(dvvset.discard(set, [["a", 1]])), ["v2"]);
  assert.deepEqual(dvvset.discard(set, [["a", 1], ["c", 4]]).entries, [["a", 1, []], ["b", 1, ["v2"]], ["c", 4, []]]);
  const withAnonymous = dvvset.sync(set, dvvset.newValue("x"));
  assert.ok(!dvvset.contextCovers(dvvset.join(withAnonymous), withAnonymous));
});

test("anonymous values survive sync and update: no context can prove it saw one", () => {
  const stored = write(dvvset.empty(), "a", "v1");
  const withAnonymous = dvvset.sync(stored, dvvset.newValue("x"));
  assert.deepEqual(dvvset.values(withAnonymous), ["v1", "x"]);
  assert.deepEqual(dvvset.sync(withAnonymous, withAnonymous), withAnonymous);
  const overwritten = write(withAnonymous, "a", "v2", withAnonymous);
  assert.deepEqual(dvvset.values(overwritten), ["v2", "x"]);
  assert.deepEqual(dvvset.sync(dvvset.newValue("y"), dvvset.newValue("x")).anonymous, ["x", "y"]);
});

test("update refuses a proposal that is not one value over a bare context", () => {
  const stored = write(dvvset.empty(), "a", "v1");
  assert.throws(() => dvvset.update(stored, stored, "a"), AssertionError);
  assert.throws(() => dvvset.update(dvvset.sync(dvvset.newValue("x"), dvvset.newValue("y")), stored, "a"), AssertionError);
  assert.throws(() => dvvset.update(dvvset.newValue("x"), stored, ""), AssertionError);
  assert.throws(() => dvvset.newWithContext([["b", 1], ["a", 1]], "x"), AssertionError);
});

test("lww keeps the history and only the greatest value", () => {
  const set = write(write(write(dvvset.empty(), "a", "3"), "b", "9"), "c", "5");
  const kept = dvvset.lww(set, comparePlainData);
  assert.deepEqual(kept, { entries: [["a", 1, []], ["b", 1, ["9"]], ["c", 1, []]], anonymous: [] });
  assert.deepEqual(dvvset.lww(kept, comparePlainData), kept);
  assert.deepEqual(dvvset.lww(dvvset.empty<string>(), comparePlainData), dvvset.empty());
});

test("lww keeps a winner that is not its node's newest as an anonymous value over the same history", () => {
  const set = write(write(dvvset.empty(), "a", "9"), "a", "1");
  const kept = dvvset.lww(set, comparePlainData);
  assert.deepEqual(kept, { entries: [["a", 2, []]], anonymous: ["9"] });
  const later = dvvset.lww(write(kept, "a", "99", kept), comparePlainData);
  assert.deepEqual(later, { entries: [["a", 3, ["99"]]], anonymous: [] });
});

test("lww breaks ties by position, so every replica picks the same value", () => {
  const set = write(write(dvvset.empty(), "a", "x"), "b", "y");
  const equal = (): number => 0;
  assert.deepEqual(dvvset.values(dvvset.lww(set, equal)), ["x"]);
});

test("parse accepts what sync and update build, after a MessagePack round trip", () => {
  const packr = new Packr({ useRecords: false, moreTypes: false, structuredClone: false });
  const set = dvvset.sync(write(write(dvvset.empty(), "a", "v1"), "b", "v2"), dvvset.newValue("x"));
  const decoded: unknown = packr.unpack(packr.pack(set));
  assert.deepEqual(dvvset.parse(decoded, isString), { ok: true, set });
});

test("parse names what is wrong with data that is not a set", () => {
  const error = (data: unknown, bounds?: dvvset.ParseBounds): string => {
    const result = dvvset.parse(data, isString, bounds);
    assert.equal(result.ok, false);
    return (result as { error: string }).error;
  };
  assert.match(error(null), /not an object/);
  assert.match(error({ entries: [] }), /lacks entries or anonymous/);
  assert.match(error({ entries: [["a", 1]], anonymous: [] }), /entry 0: is not \[nodeId, counter, values\]/);
  assert.match(error({ entries: [["b", 1, []], ["a", 1, []]], anonymous: [] }), /entry 1: node ids are not strictly ascending/);
  assert.match(error({ entries: [["a", 0, []]], anonymous: [] }), /counter 0/);
  assert.match(error({ entries: [["a", 1, ["x", "y"]]], anonymous: [] }), /2 values but only 1 dots/);
  assert.match(error({ entries: [["a", 1, [7]]], anonymous: [] }), /not a value/);
  assert.match(error({ entries: [], anonymous: ["y", "x"] }), /not strictly ascending/);
  assert.match(error({ entries: [["a", 1, []], ["b", 1, []]], anonymous: [] }, { entriesMax: 1, valuesMax: 9 }), /2 entries; the limit is 1/);
  assert.match(error({ entries: [["a", 2, ["x", "y"]]], anonymous: [] }, { entriesMax: 9, valuesMax: 1 }), /2 values; the limit is 1/);
});

test("Dynamo's shopping cart: concurrent adds through two coordinators, then one merged write collapses them", () => {
  // Dynamo, section 4.4 and figure 3: D1 and D2 through Sx, D3 through Sy and D4 through Sz
  // concurrently from the context of D2, then a client reconciles and writes D5 through Sx.
  const replicas = new Map<string, Set>([["sx", dvvset.empty()], ["sy", dvvset.empty()], ["sz", dvvset.empty()]]);
  const at = (id: string): Set => replicas.get(id)!;
  const coordinate = (id: string, cart: string[], read?: Set): void => {
    replicas.set(id, write(at(id), id, JSON.stringify(cart), read));
    for (const other of replicas.keys()) if (other !== id) replicas.set(other, dvvset.sync(at(other), at(id)));
  };
  const cart = (set: Set): string[][] => dvvset.values(set).map((v) => JSON.parse(v) as string[]);

  coordinate("sx", ["book"]);
  coordinate("sx", ["book", "pen"], at("sx"));
  const readBeforeSplit = at("sy");
  // A partition: each write reaches only its coordinator.
  replicas.set("sy", write(at("sy"), "sy", JSON.stringify(["book", "pen", "cup"]), readBeforeSplit));
  replicas.set("sz", write(at("sz"), "sz", JSON.stringify(["book", "pen", "lamp"]), readBeforeSplit));
  const healed = dvvset.sync(at("sy"), at("sz"));
  assert.deepEqual(cart(healed), [["book", "pen", "cup"], ["book", "pen", "lamp"]]);
  assert.deepEqual(dvvset.join(healed), [["sx", 2], ["sy", 1], ["sz", 1]]);

  const reconciled = [...new Set(cart(healed).flat())].sort();
  replicas.set("sx", dvvset.sync(at("sx"), healed));
  coordinate("sx", reconciled, healed);
  for (const id of replicas.keys()) {
    assert.deepEqual(cart(at(id)), [["book", "cup", "lamp", "pen"]], `replica ${id}`);
    assert.deepEqual(dvvset.join(at(id)), [["sx", 3], ["sy", 1], ["sz", 1]]);
  }
});

test("two clients read-modify-writing through one coordinator lose nothing and never see false siblings", () => {
  let stored: Set = dvvset.empty();
  let readA = stored;
  let readB = stored;
  for (let round = 0; round < 20; round++) {
    stored = write(stored, "a", `a${round}`, readA);
    stored = write(stored, "a", `b${round}`, readB);
    // This round's two writes are concurrent; each older value was seen by one of them.
    assert.deepEqual(sorted(dvvset.values(stored)), [`a${round}`, `b${round}`]);
    readA = stored;
    readB = round % 2 === 0 ? stored : readB;
  }
});
