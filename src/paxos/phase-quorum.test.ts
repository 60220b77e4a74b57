import { test } from "node:test";
import assert from "node:assert/strict";
import { PhaseQuorum } from "./phase-quorum.js";

// Strict majorities of every acceptor set: one set normally, the new and the previous while a
// partition moves.

test("a strict majority of one set is reached, and a phase fails once it cannot be", () => {
  const quorum = new PhaseQuorum([["a", "b", "c"]]);
  quorum.add("a", true);
  assert.equal(quorum.reached, false);
  quorum.add("b", false);
  assert.equal(quorum.failed, false);
  quorum.add("c", true);
  assert.equal(quorum.reached, true);
  assert.equal(quorum.unanimous, false);
});

test("half of an even set is no majority", () => {
  const quorum = new PhaseQuorum([["a", "b", "c", "d"]]);
  quorum.add("a", true);
  quorum.add("b", true);
  assert.equal(quorum.reached, false);
  quorum.add("c", false);
  quorum.add("d", false);
  assert.equal(quorum.failed, true);
});

test("a duplicated reply counts once", () => {
  const quorum = new PhaseQuorum([["a", "b", "c"]]);
  quorum.add("a", true);
  quorum.add("a", true);
  assert.equal(quorum.reached, false);
  quorum.add("b", false);
  quorum.add("b", true);
  quorum.add("c", false);
  assert.equal(quorum.failed, true, "b's first answer stands");
});

test("with a previous set the phase needs a majority of both; a node in both counts in both", () => {
  const quorum = new PhaseQuorum([
    ["a", "b", "c"],
    ["c", "d", "e"],
  ]);
  assert.deepEqual(quorum.nodes, ["a", "b", "c", "d", "e"]);
  quorum.add("a", true);
  quorum.add("b", true);
  assert.equal(quorum.reached, false, "a majority of the new set only");
  quorum.add("c", true);
  assert.equal(quorum.reached, false);
  quorum.add("d", true);
  assert.equal(quorum.reached, true);
  const failing = new PhaseQuorum([
    ["a", "b", "c"],
    ["c", "d", "e"],
  ]);
  failing.add("d", false);
  failing.add("e", false);
  assert.equal(failing.failed, true, "the previous set lost its majority");
  assert.equal(failing.describe(), "0 of 3 and 0 of 3");
});
