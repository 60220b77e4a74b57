import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { eventually } from "../testing/eventually.js";
import { formatPlan, parsePlanCall } from "./cluster-plan.js";
import { runCaptured } from "./run-cli.test-support.js";

const run = runCaptured;

const started: TestNode[] = [];
after(() => Promise.all(started.map((n) => n.close())));

test("plan subcommands parse into the requests they send", () => {
  const url = "http://127.0.0.1:8001";
  assert.deepEqual(parsePlanCall("plan", ["--url", url]), { kind: "show", url });
  assert.deepEqual(parsePlanCall("plan", ["--join", "n4", "--zone", "z1"]), { kind: "stage", url: "http://127.0.0.1:8000", body: { join: "n4", zone: "z1" } });
  assert.deepEqual(parsePlanCall("plan", ["--leave", "n2", "--url", url]), { kind: "stage", url, body: { leave: "n2" } });
  assert.deepEqual(parsePlanCall("plan", ["--replace", "n3,n5"]), { kind: "stage", url: "http://127.0.0.1:8000", body: { replace: ["n3", "n5"] } });
  assert.deepEqual(parsePlanCall("plan", ["--mode", "manual"]), { kind: "stage", url: "http://127.0.0.1:8000", body: { mode: "manual" } });
  assert.deepEqual(parsePlanCall("plan", ["--clear"]), { kind: "clear", url: "http://127.0.0.1:8000" });
  assert.deepEqual(parsePlanCall("commit", ["--url", url]), { kind: "commit", url });
  assert.deepEqual(parsePlanCall("commit", ["--url", url, "--force"]), { kind: "commit", url, force: true });
  assert.deepEqual(parsePlanCall("leave", ["--url", url]), { kind: "leave", url, id: undefined });
  assert.deepEqual(parsePlanCall("leave", ["n2"]), { kind: "leave", url: "http://127.0.0.1:8000", id: "n2" });
  assert.deepEqual(parsePlanCall("replace", ["n3", "n5"]), { kind: "replace", url: "http://127.0.0.1:8000", old: "n3", now: "n5" });
  assert.equal(parsePlanCall("commit", ["--help"]), "help");
});

test("bad plan subcommands exit 2 naming the problem, before any request", async () => {
  const cases: Array<[string[], RegExp]> = [
    [["cluster", "plan", "--join", "a", "--leave", "b"], /at most one of --join, --leave, --replace, --mode, --clear; got --join and --leave/],
    [["cluster", "plan", "--replace", "a"], /--replace takes OLD,NEW; got "a"/],
    [["cluster", "plan", "--replace", "a,a"], /cannot replace a by itself/],
    [["cluster", "plan", "--mode", "sometimes"], /--mode must be auto or manual; got "sometimes"/],
    [["cluster", "plan", "--zone", "z"], /--zone applies to --join only/],
    [["cluster", "plan", "extra"], /./],
    [["cluster", "replace", "a"], /./],
    [["cluster", "replace", "a", "a"], /cannot replace a by itself/],
    [["cluster", "leave", "a", "b"], /./],
    [["cluster", "commit", "--join", "x"], /./],
    [["cluster", "commit", "--url", "ftp://x"], /--url must be an http:\/\/host:port address/],
  ];
  for (const [argv, message] of cases) {
    const result = await run(argv);
    assert.equal(result.code, 2, `${argv.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, argv.join(" "));
  }
  const help = await run(["cluster", "plan", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /shoal cluster replace \[--url URL\] OLD NEW/);
});

test("plan, commit and leave against a node: the plan prints, refusals exit 1 with the node's code, an unreachable node exits 1", async () => {
  const node = await startTestNode({ config: { nodeId: "solo" } });
  started.push(node);
  const shown = await run(["cluster", "plan", "--url", node.url]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /mode: auto {3}ring version: 1 {3}staged changes: 0/);
  assert.match(shown.stdout, /cannot commit: no changes are staged/);
  const empty = await run(["cluster", "commit", "--url", node.url]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^error PlanEmpty: no changes are staged/);
  const last = await run(["cluster", "leave", "--url", node.url]);
  assert.equal(last.code, 1);
  assert.match(last.stderr, /^error PlanUnplaceable: solo is the last member/);
  const unknown = await run(["cluster", "replace", "--url", node.url, "ghost", "other"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error UnknownNode: ghost is not a ring member/);
  const mode = await run(["cluster", "plan", "--url", node.url, "--mode", "manual"]);
  assert.equal(mode.code, 0, mode.stderr);
  assert.match(mode.stdout, /mode: manual/);
  const unreachable = await run(["cluster", "plan", "--url", "http://127.0.0.1:1"]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stderr, /^error NodeUnreachable/);
});

test("shoal cluster leave stages and commits a leave of the node at --url; the node leaves", async () => {
  const a = await startTestNode({ config: { nodeId: "a" } });
  started.push(a);
  const b = await startTestNode({ config: { nodeId: "b", join: [`127.0.0.1:${a.node.peerPort}`] } });
  started.push(b);
  await eventually("a settled ring of two", () => [a, b].every((t) => t.node.cluster.membership.ring()?.members.length === 2 && t.node.cluster.membership.ring()?.previous === undefined));
  const left = await run(["cluster", "leave", "--url", b.url]);
  assert.equal(left.code, 0, left.stderr);
  assert.match(left.stdout, /committed: ring version \d+\nb hands its partitions off and then stops/);
  await b.node.left;
  assert.deepEqual(a.node.cluster.membership.ring()?.members.map((m) => m.id), ["a"]);
});

test("formatPlan shows the staged changes, the per-node moves and why a plan cannot be committed", () => {
  const text = formatPlan({
    mode: "manual",
    ringVersion: 4,
    changes: [{ join: "d", zone: "z" }, { leave: "b" }, { replace: ["c", "e"] }],
    transfers: [{ partition: 1, from: ["b"], to: ["d"] }],
    summary: [{ node: "b", gains: 0, loses: 1, owns: 0 }, { node: "d", gains: 1, loses: 0, owns: 1 }],
    error: "ring 4 is still in transition",
  });
  assert.match(text, /join d \(zone z\)\n {2}leave b\n {2}replace c by e/);
  assert.match(text, /partitions whose replicas change: 1/);
  assert.match(text, /NODE +GAINS +LOSES +OWNS AFTER/);
  assert.match(text, /cannot commit: ring 4 is still in transition/);
});

test("shoal cluster forget ID drops a pending departure (exit 0); unknown, member and usage errors exit 1 or 2", async () => {
  assert.deepEqual(parsePlanCall("forget", ["n9", "--url", "http://127.0.0.1:8001"]), { kind: "forget", url: "http://127.0.0.1:8001", id: "n9" });
  for (const argv of [["cluster", "forget"], ["cluster", "forget", "a", "b"], ["cluster", "forget", ""]]) assert.equal((await run(argv)).code, 2, argv.join(" "));
  const node = await startTestNode({ config: { nodeId: "keeper" } });
  started.push(node);
  const unknown = await run(["cluster", "forget", "--url", node.url, "gone"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^error NoDeparture: this node holds no departure record of gone/);
  const member = await run(["cluster", "forget", "--url", node.url, "keeper"]);
  assert.equal(member.code, 1);
  assert.match(member.stderr, /^error StillMember/);
  await node.node.items.departures.merge([["gone", 1, -1]]);
  const forgot = await run(["cluster", "forget", "--url", node.url, "gone"]);
  assert.equal(forgot.code, 0, forgot.stderr);
  assert.match(forgot.stdout, /^forgot gone's departure at ring version 1 \(0 other members told/);
  assert.deepEqual(node.node.items.departures.pending(node.node.cluster.membership.ring()), []);
  const help = await run(["cluster", "plan", "--help"]);
  assert.match(help.stdout, /forget ID {9}declares ID/);
});
