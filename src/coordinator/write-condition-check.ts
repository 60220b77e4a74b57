import type { WriteCondition } from "../replica/item-write.js";
import type { ItemVersion } from "./item-operations.js";

/**
 * Why `condition` refuses a write over the live versions a read found (several on a siblings
 * table), or null when it holds. HTTP semantics (RFC 9110, 13.1.1 and 13.1.2) over siblings:
 * If-Match needs a live version and, unless "*", one of them listed; If-None-Match refuses
 * when any live version is listed ("*": when any exists at all).
 */
export function writeConditionRefusal(current: readonly Pick<ItemVersion, "version">[], condition: WriteCondition): string | null {
  const { ifMatch, ifNoneMatch } = condition;
  if (ifMatch !== undefined) {
    if (current.length === 0) return "If-Match needs an existing item and there is none";
    if (ifMatch !== "*" && !current.some((version) => ifMatch.includes(version.version))) {
      return `If-Match names ${ifMatch.length} version(s) and none of the ${current.length} current version(s) is among them`;
    }
  }
  if (ifNoneMatch !== undefined && current.length > 0) {
    if (ifNoneMatch === "*") return "If-None-Match: * allows only creation and the item exists";
    const named = current.find((version) => ifNoneMatch.includes(version.version));
    if (named !== undefined) return `If-None-Match names the current version "${named.version}"`;
  }
  return null;
}

/** True when the condition asks anything (a read must come first). */
export function hasCondition(condition: WriteCondition): boolean {
  return condition.ifMatch !== undefined || condition.ifNoneMatch !== undefined;
}
