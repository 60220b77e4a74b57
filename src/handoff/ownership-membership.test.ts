import { test } from "node:test";
import assert from "node:assert/strict";
import { defaultLimits } from "../limits.js";
import { Membership } from "../membership/membership.js";
import { claimRingHook } from "../node/claim-ring.js";
import { NodeItems } from "../node/node-items.js";
import { PeerDispatcher } from "../node/peer-dispatcher.js";
import { simIntervals } from "../node/sim-items-cluster.test-support.js";
import { claimInitial } from "../ring/claim.js";
import { partitionOf } from "../ring/partition-hash.js";
import { preferenceList } from "../ring/preference-list.js";
import { parseRing, type RingState } from "../ring/ring-state.js";
import { Simulation } from "../sim/simulation.js";
import { encodeItemKey } from "../storage/item-key.js";
import * as dvvset from "../versioning/dotted-version-vector-set.js";
import type { Sibling } from "../versioning/sibling.js";
import { ownershipMessagePrefix } from "./ownership-messages.js";
import { OwnershipTransfer, type OwnershipTable } from "./ownership-transfer.js";

// The wiring a node needs, end to end on the simulator: Membership with the claim hook, the
// data path (NodeItems), and OwnershipTransfer publishing the settled ring through
// membership's own "membership.ring" message. A fourth node joins a three-node ring; the ring
// goes through a transition and settles by itself, and the new node then holds its share.

const encoder = new TextEncoder();
const table: OwnershipTable = { id: 1, strong: false, n: 3, lww: false };
const sibling = (text: string): Sibling => ({ value: encoder.encode(text), contentType: "text/plain", metadata: [], timestamp: 1, tombstone: false, expiresAtMs: null });

interface WiredNode {
  membership: Membership<RingState>;
  items: NodeItems;
  transfer: OwnershipTransfer;
}

test("a node joining through membership gets a ring in transition, fills its partitions, and the ring settles with it", async () => {
  const sim = new Simulation({ seed: 21 });
  const founders = ["n1", "n2", "n3"];
  const claimed = claimInitial(founders.map((id) => ({ id })), { partitionCount: 16 });
  assert.ok(claimed.ok);
  const rings: RingState[] = [];
  for (const id of [...founders, "n4"]) {
    sim.addNode(id, (runtime): WiredNode => {
      const membership = new Membership<RingState>(runtime, {
        self: { id, address: { host: id, peerPort: 9000, clientPort: 8000 } },
        seeds: founders.filter((other) => other !== id),
        computeRing: claimRingHook({ partitionCount: 16, transitions: true }),
        parseRing: (value) => {
          const parsed = parseRing(value);
          return parsed.ok ? parsed.ring : undefined;
        },
        ...(founders.includes(id) ? { ring: claimed.ring } : {}),
        intervals: simIntervals,
      });
      const items = NodeItems.open(runtime, { membership, limits: defaultLimits, requestTimeoutMs: 400, tombstoneGraceMs: 1_000, hintDelivery: { intervalMs: 100, backoffBaseMs: 100, backoffMaxMs: 1_000 } });
      // The wiring lines the node needs (see the final report of the elasticity work).
      const transfer = new OwnershipTransfer({
        runtime,
        ring: () => membership.ring(),
        leader: () => membership.leader(),
        tables: () => [table],
        merge: (key, set, conflicts) => items.replicas.merge(key, set, conflicts),
        strongRead: (key, n) => items.strong.read(key, n),
        publishRing: (ring) => void membership.handle(runtime.nodeId, { type: "membership.ring", ring, origin: runtime.nodeId }),
        intervalMs: 200,
      });
      const dispatcher = new PeerDispatcher();
      dispatcher.route("membership.", (from, message) => membership.handle(from, message));
      for (const [prefix, handler] of items.routes()) dispatcher.route(prefix, handler);
      dispatcher.route(ownershipMessagePrefix, (from, message) => transfer.handle(from, message));
      runtime.network!.serve(dispatcher.handle);
      if (id === "n4") membership.onChange((event) => void (event.kind === "ring" && rings.push(event.ring)));
      return { membership, items, transfer };
    });
  }
  const node = (id: string) => sim.node<WiredNode>(id).instance!;
  await sim.bootAll();
  for (const id of founders) {
    node(id).membership.start();
    node(id).items.start();
    node(id).transfer.start();
  }
  await sim.runUntil(sim.now() + 1_000);
  const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
  for (const name of keys) {
    const key = encodeItemKey(table.id, encoder.encode(name));
    const written = dvvset.update(dvvset.newValue(sibling(name)), dvvset.empty<Sibling>(), "n1");
    for (const id of preferenceList(claimed.ring, partitionOf(encoder.encode(name), 16), 3)) {
      const merged = await sim.settle(node(id).items.replicas.merge(key, written, { lww: false }));
      assert.ok(merged.ok);
    }
  }
  node("n4").membership.start();
  node("n4").items.start();
  node("n4").transfer.start();
  const settled = () => {
    const ring = node("n1").membership.ring();
    return ring !== undefined && ring.previous === undefined && ring.members.length === 4;
  };
  await sim.runUntil(settled, { deadlineMs: sim.now() + 30_000 });
  assert.ok(settled(), `the ring did not settle: ${JSON.stringify(node("n1").membership.ring()?.previous?.members)} / ${node("n4").transfer.lastProblem ?? ""}`);
  assert.ok(rings.some((ring) => ring.previous !== undefined), "n4 never saw the ring in transition");
  const ring = node("n1").membership.ring()!;
  let held = 0;
  for (const name of keys) {
    if (!preferenceList(ring, partitionOf(encoder.encode(name), 16), 3).includes("n4")) continue;
    assert.ok(node("n4").items.replicas.fetch(encodeItemKey(table.id, encoder.encode(name))) !== undefined, `n4 lacks ${name}`);
    held++;
  }
  assert.ok(held > 0, "n4 gained no key: the test shows nothing");
  for (const id of [...founders, "n4"]) {
    node(id).transfer.stop();
    node(id).membership.stop();
    await sim.settle(node(id).items.stop());
  }
});
