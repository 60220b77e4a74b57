import { test } from "node:test";
import assert from "node:assert/strict";
import { compareRoots, metricSum, valueOf, type AntiEntropyView, type TreeStatus } from "./elastic-http.js";

const tree = (partition: number, root: string, replicas = ["a", "b", "c"]): TreeStatus => ({ partition, n: 3, root, replicas, lastCompleteAgeMs: null });
const view = (trees: TreeStatus[]): AntiEntropyView => ({ enabled: true, loaded: true, exchanges: 0, exchangesFailed: 0, keysRepaired: 0, bytes: 0, trees });
const r1 = "00000000000000a1";
const r2 = "00000000000000b2";

test("compareRoots: replicas agree only when every replica of every tree holds the same root", () => {
  const agreeing = new Map([["a", view([tree(1, r1), tree(2, r2)])], ["b", view([tree(1, r1), tree(2, r2)])], ["c", view([tree(1, r1), tree(2, r2)])]]);
  assert.deepEqual(compareRoots(agreeing), { trees: 2, differing: 0 });
  const behind = new Map([["a", view([tree(1, r1), tree(2, r2)])], ["b", view([tree(1, r1), tree(2, r2)])], ["c", view([tree(1, r1), tree(2, r1)])]]);
  assert.equal(compareRoots(behind).differing, 1);
  assert.match(compareRoots(behind).example ?? "", /tree 2\/3: a=0+b2 b=0+b2 c=0+a1/);
});

test("compareRoots: a replica missing a tree counts as empty, one that did not answer never agrees", () => {
  const missing = new Map([["a", view([tree(1, r1)])], ["b", view([tree(1, r1)])], ["c", view([])]]);
  assert.equal(compareRoots(missing).differing, 1);
  const silent = new Map([["a", view([tree(1, r1)])], ["b", view([tree(1, r1)])]]);
  assert.equal(compareRoots(silent).differing, 1);
  const notReplica = new Map([["a", view([tree(1, r1, ["a", "b"])])], ["b", view([tree(1, r1, ["a", "b"])])], ["c", view([])]]);
  assert.equal(compareRoots(notReplica).differing, 0, "a node outside the tree's preference list is not compared");
});

test("metricSum adds every series of one name and no other; valueOf is exactly the size asked", () => {
  const text = ['shoal_hints_pending{node="a"} 3', 'shoal_hints_pending{node="b"} 4', 'shoal_hints_pending_other{node="a"} 100', "# HELP shoal_hints_pending x"].join("\n");
  assert.equal(metricSum(text, "shoal_hints_pending"), 7);
  assert.equal(metricSum(undefined, "shoal_hints_pending"), 0);
  assert.equal(Buffer.byteLength(valueOf(100, "load")), 100);
});
