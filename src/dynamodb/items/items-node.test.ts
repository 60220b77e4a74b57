import { startTestNode } from "../../node/test-node.js";
import { startDynamoNodeServer } from "../testing/dynamo-node-server.js";
import { itemSuite } from "./item-suite.js";

/** The item suite over a real ShoalNode: strong tables, the cluster coordinator, CASPaxos. */
itemSuite(async () => {
  const node = await startTestNode({ config: { nodeId: "items-1" } });
  const server = await startDynamoNodeServer(node);
  return {
    client: server.client,
    close: async () => {
      await server.close();
      await node.close();
    },
  };
});
