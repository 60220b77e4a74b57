import { networkContract } from "../../test/contracts/network.contract.js";
import type { Network, NodeId } from "../runtime/network.js";
import { SeededRandom } from "../runtime/seeded-random.js";
import { Scheduler } from "./scheduler.js";
import { SimNetwork } from "./sim-network.js";

/**
 * Runs the Network contract suite (test/contracts/network.contract.ts) against the simulated
 * network. The suite awaits promises and knows nothing of virtual time, so a pump drives the
 * scheduler from the host's event loop: whenever events are queued it runs them all (virtual
 * time jumps straight to each timeout), and while the queue is empty it yields one macrotask
 * so the test body can make the next request. Nothing waits on real time.
 */
networkContract("SimNetwork", async (nodeIds: NodeId[]) => {
  const scheduler = new Scheduler();
  const network = new SimNetwork(scheduler, { random: new SeededRandom(1) });
  const networks = new Map<NodeId, Network>(nodeIds.map((id) => [id, network.attach(id)]));
  let closed = false;
  const pump = (async () => {
    while (!closed) {
      if (scheduler.pending > 0) await scheduler.runToIdle();
      else await new Promise<void>((resolve) => setImmediate(resolve));
    }
  })();
  return {
    networks,
    async close() {
      closed = true;
      await pump;
      for (const id of nodeIds) network.endpoint(id)?.close();
    },
  };
});
