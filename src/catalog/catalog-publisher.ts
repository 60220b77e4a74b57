import type { NodeId } from "../runtime/network.js";
import type { NameRecord } from "./catalog-record.js";

/**
 * How TableCatalog pushes a local change to the other members before it answers (CatalogSync
 * implements it over the network). `missing` names the members that did not acknowledge;
 * `replies` are the records the others hold for the same names after merging ours, so a
 * concurrent create another node already has is seen before the create answers.
 */
export interface PublishOutcome {
  missing: NodeId[];
  replies: NameRecord[];
}

export interface CatalogPublisher {
  publish(records: readonly NameRecord[]): Promise<PublishOutcome>;
}
