/**
 * The package's client entry point (`import { ShoalClient } from "shoal/client"`): the
 * partition-aware client over the binary protocol, and the REST client for one node.
 *
 * Example:
 *   import { ShoalClient } from "shoal/client";
 *   const client = await ShoalClient.connect({ seeds: ["127.0.0.1:9000"] });
 *   await client.put("cart", "user/42", "one apple");
 *   console.log(await client.get("cart", "user/42"));
 *   client.close();
 */
export {
  ShoalClient,
  type ShoalBytes,
  type ShoalClientOptions,
  type ShoalItem,
  type ShoalKey,
  type ShoalListOptions,
  type ShoalListedItem,
  type ShoalPutOptions,
  type ShoalPutResult,
  type ShoalReadOptions,
  type ShoalSibling,
  type ShoalWriteOptions,
} from "./shoal-client.js";
export { ShoalHttpClient, type ShoalHttpClientOptions } from "./http-client.js";
export { ShoalError } from "../errors.js";
