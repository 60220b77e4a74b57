/**
 * handoff/: hinted handoff (Dynamo paper, section 4.6). A fallback replica keeps writes meant
 * for a down primary in a HintStore; HintDelivery hands them back once the primary is up.
 *
 *   const hints = HintStore.open({ storage: runtime.storage, isValue: isSibling, hintsPerTargetMax: limits.hintsPerTargetMax });
 *   const added = await hints.add({ target: standsInFor, tableId, key, set }, { durable });
 *   if (!added.ok) reply({ ok: false, error: added.error });          // "hints-full": a failed replica
 *   const delivery = new HintDelivery({ store: hints, timers: runtime.timers, random: runtime.random,
 *     isUp: (node) => membership.isUp(node), deliver: (node, batch, to) => sendHandoff(node, batch, to?.hintFor),
 *     placement: ringHintPlacement({ self, ring: () => membership.ring(), nOf }) });   // re-targets hints for departed nodes
 *   delivery.start();  ...  await delivery.drain();  // leaving: hand every hint on first
 *   await delivery.stop();
 */
export {
  HintStore,
  HINT_FORMAT,
  hintStoreDefaults,
  type Hint,
  type HintAddResult,
  type HintCursor,
  type HintList,
  type HintListOptions,
  type HintStoreOptions,
  type ListedHint,
} from "./hint-store.js";
export {
  HintDelivery,
  hintDeliveryDefaults,
  type HintDeliveryOptions,
  type HintDeliveryResult,
  type HintDrainResult,
  type HintPlace,
  type HintPlacement,
} from "./hint-delivery.js";
export { ringHintPlacement, type RingHintPlacementOptions } from "./hint-placement.js";
export { encodeHintKey, decodeHintKey, hintTargetPrefix, HINT_TARGET_BYTES_MAX, type HintKey } from "./hint-key.js";
