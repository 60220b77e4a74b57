import { itemSuite } from "./item-suite.js";
import { startDynamoTestServer } from "../testing/dynamo-test-server.js";

itemSuite(async () => {
  const server = await startDynamoTestServer();
  return { client: server.client(), close: () => server.close() };
});
