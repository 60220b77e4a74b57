import { test } from "node:test";
import assert from "node:assert/strict";
import { strongScenario } from "./strong-scenario.js";
import { strongSeedFailures } from "./strong-seeds.js";

// The strong path end to end under each seed's swarm of faults (issue 4, simulator bullet).
// `npm test` runs 200 seeds, split over strong-seeds-0-49.test.ts ... strong-seeds-150-199.test.ts
// so that no file runs long and the runner can run them side by side; `npm run sim --
// --scenario strong --seeds N` runs more (README.md, "Running many seeds").

test("the workload on one atomic copy is linearizable on seeds 0-9, failures and unknown outcomes included", async () => {
  assert.deepEqual(await strongSeedFailures(0, 10, { register: "single-copy" }), []);
});

test("one atomic copy answering stale reads is caught with a counterexample", async () => {
  for (const seed of [0, 1, 2]) {
    const result = await strongScenario(seed, { register: "single-copy-stale-reads" });
    assert.equal(result.ok, false, `seed ${seed}: stale reads passed the checker (${result.summary})`);
    assert.match(result.ok ? "" : result.reason, /^not linearizable \(register\): key "k\d+\.\d+"/);
  }
});

test("a history the checker cannot finish within its budget fails the seed instead of passing", async () => {
  const result = await strongScenario(1, { register: "single-copy", checkStepsMax: 1 });
  assert.equal(result.ok, false, result.summary);
  assert.match(result.ok ? "" : result.reason, /the checker ran out of its 1 steps on key "?k\S+: the history is unchecked/);
});

test("CASPaxos whose reads skip the accept phase is caught with a counterexample on one of seeds 0-39", async () => {
  // Loss, crashes and partitions leave accepts on a minority; a read that answers from the
  // prepare phase alone can then see a value that a later read contradicts (DESIGN.md).
  const kinds = ["loss", "duplication", "reordering", "crash", "partition", "clogging"] as const;
  const seen: string[] = [];
  for (let seed = 0; seed < 40; seed++) {
    const result = await strongScenario(seed, { register: "paxos-unsafe-reads", kinds });
    if (!result.ok && /^not linearizable \(register\)/.test(result.reason)) return;
    seen.push(`seed ${seed}: ${result.ok ? "passed" : result.reason}`);
  }
  assert.fail(`the checker let reads without an accept phase pass on every seed:\n${seen.join("\n")}`);
});

test("CASPaxos whose one-round-trip reads skip the agreement check is caught with a counterexample on one of seeds 0-39", async () => {
  // The fast read may answer only what a majority of every set accepted at one ballot
  // (paxos/README.md, "A one-round-trip read"); the highest ballot of any majority can be a
  // minority's value that a later read contradicts.
  const kinds = ["loss", "duplication", "reordering", "crash", "partition", "clogging"] as const;
  const seen: string[] = [];
  for (let seed = 0; seed < 40; seed++) {
    const result = await strongScenario(seed, { register: "paxos-unsafe-fast-reads", kinds });
    if (!result.ok && /^not linearizable \(register\)/.test(result.reason)) return;
    seen.push(`seed ${seed}: ${result.ok ? "passed" : result.reason}`);
  }
  assert.fail(`the checker let fast reads without agreement pass on every seed:\n${seen.join("\n")}`);
});

test("one strong seed run twice gives the same trace hash; other seeds differ", async () => {
  const first = await strongScenario(4242);
  const second = await strongScenario(4242);
  assert.equal(first.ok, true, first.ok ? "" : first.reason);
  assert.equal(second.traceHash, first.traceHash);
  assert.equal(second.summary, first.summary);
  const other = await strongScenario(4243);
  assert.notEqual(other.traceHash, first.traceHash);
});

test("without faults every strong operation answers, nearly all definitely", async () => {
  // Contention alone (two or three clients per key through different nodes) may still leave a
  // proposer unable to tell whether its refused accept was built upon ("indeterminate"), but
  // nothing may go unanswered or fail, and such answers must stay rare.
  const result = await strongScenario(7, { kinds: [] });
  assert.equal(result.ok, true, result.ok ? "" : result.reason);
  const match = /(\d+) operations \((\d+) ok, (\d+) failed, (\d+) unknown, (\d+) of them unanswered\)/.exec(result.summary);
  assert.ok(match !== null, result.summary);
  const [operations, failed, unknown, unanswered] = [match[1], match[3], match[4], match[5]].map(Number) as [number, number, number, number];
  assert.ok(operations > 100, result.summary);
  assert.equal(failed, 0, result.summary);
  assert.equal(unanswered, 0, result.summary);
  assert.ok(unknown <= operations / 20, result.summary);
});
