import { test } from "node:test";
import assert from "node:assert/strict";
import { formatClusterStatus, formatTable, parseClusterStatus } from "./cluster-table.js";

test("a table pads every column but the last to its widest cell", () => {
  assert.equal(formatTable(["A", "LONG"], [["xyz", "1"], ["q", "22"]]), "A    LONG\nxyz  1\nq    22");
});

test("cluster status prints a summary and one row per member, marking the node asked", () => {
  const text = formatClusterStatus({
    self: "n1",
    ringVersion: 3,
    partitionCount: 256,
    members: [
      { id: "n1", address: "127.0.0.1:9000", clientUrl: "http://127.0.0.1:8000", state: "up", partitions: 128 },
      { id: "n2", address: "127.0.0.1:9001", clientUrl: "http://127.0.0.1:8001", state: "suspect", partitions: 128 },
    ],
    pendingTransfers: 0,
  });
  assert.equal(
    text,
    [
      "node n1: ring version 3, 256 partitions, 1 of 2 members up, 0 pending transfers",
      "ID    STATE    PARTITIONS  PEER ADDRESS    CLIENT URL",
      "n1 *  up       128         127.0.0.1:9000  http://127.0.0.1:8000",
      "n2    suspect  128         127.0.0.1:9001  http://127.0.0.1:8001",
      "",
    ].join("\n"),
  );
});

test("a body that is not a cluster status is refused", () => {
  assert.equal(parseClusterStatus({ error: { code: "X" } }), undefined);
  assert.equal(parseClusterStatus({ self: "n1", ringVersion: 1, members: [{ id: "n1" }] }), undefined);
  assert.ok(parseClusterStatus({ self: "n1", ringVersion: 1, members: [{ id: "n1", state: "up", partitions: 1 }] }));
});
