import type { StoredRecord } from "../storage/record.js";
import type { WriteCondition } from "./item-write.js";

/**
 * Why `condition` refuses a write over `current` (the live record, or undefined when there is
 * none or it expired), or null when it holds. HTTP semantics (RFC 9110, 13.1.1 and 13.1.2):
 * If-Match needs a live record with a listed version; If-None-Match needs none of the listed
 * versions ("*": no live record at all).
 */
export function conditionRefusal(current: StoredRecord | undefined, condition: WriteCondition): string | null {
  const { ifMatch, ifNoneMatch } = condition;
  if (ifMatch !== undefined) {
    if (current === undefined) return "If-Match needs an existing item and there is none";
    if (ifMatch !== "*" && !ifMatch.includes(current.version)) {
      return `If-Match names ${ifMatch.length} version(s) and the current version "${current.version}" is not among them`;
    }
  }
  if (ifNoneMatch !== undefined && current !== undefined) {
    if (ifNoneMatch === "*") return "If-None-Match: * allows only creation and the item exists";
    if (ifNoneMatch.includes(current.version)) return `If-None-Match names the current version "${current.version}"`;
  }
  return null;
}
