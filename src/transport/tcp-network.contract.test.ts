import { networkContract } from "../../test/contracts/network.contract.js";
import { defaultLimits } from "../limits.js";
import type { Network, NodeId } from "../runtime/network.js";
import { TcpNetwork } from "./tcp-network.js";

// The Network contract against real TCP on loopback: one TcpNetwork per node, each listening
// on a port the OS picks, every node in every other node's address book.
networkContract("TcpNetwork", async (nodeIds: NodeId[]) => {
  const tcp = nodeIds.map((nodeId) => new TcpNetwork({ nodeId, limits: defaultLimits }));
  const ports = await Promise.all(tcp.map((network) => network.listen("127.0.0.1", 0)));
  for (const network of tcp) {
    for (const [i, peer] of nodeIds.entries()) if (peer !== network.nodeId) network.setPeer(peer, "127.0.0.1", ports[i]!);
  }
  return {
    networks: new Map<NodeId, Network>(tcp.map((network) => [network.nodeId, network])),
    close: async () => {
      await Promise.all(tcp.map((network) => network.close()));
    },
  };
});
