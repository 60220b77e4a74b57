import { nestingDepthMax } from "../model/attribute-value-json.js";
import type { DocumentPath, ParsedPathElement } from "./expression-ast.js";
import { isReservedWord } from "./reserved-words.js";

/**
 * DynamoDB's rules for document paths in expressions (developer guide, "Specifying item
 * attributes when using expressions"): a bare name may not be a reserved word, a path is at
 * most `nestingDepthMax` deep, and two paths of one update or projection may neither overlap
 * (one is a prefix of the other) nor conflict (one indexes where the other names a member).
 * Each rule answers DynamoDB's message, or undefined when the paths obey it.
 */
export function reservedWordMessage(elements: readonly ParsedPathElement[]): string | undefined {
  for (const element of elements) {
    if (element.kind === "name" && isReservedWord(element.name)) {
      return `Attribute name is a reserved keyword; reserved keyword: ${element.name}`;
    }
  }
  return undefined;
}

export function pathDepthMessage(elements: readonly ParsedPathElement[]): string | undefined {
  return elements.length > nestingDepthMax ? "Nesting Levels have exceeded supported limits" : undefined;
}

/** A path as DynamoDB's messages print it: [a, b, [3]]. */
export function formatPath(path: DocumentPath): string {
  return `[${path.map((element) => (typeof element === "number" ? `[${element}]` : element)).join(", ")}]`;
}

/** Overlap or conflict between any two of the paths, as DynamoDB reports the first pair. */
export function pathClashMessage(paths: readonly DocumentPath[]): string | undefined {
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < i; j++) {
      const message = clash(paths[j]!, paths[i]!);
      if (message !== undefined) return message;
    }
  }
  return undefined;
}

function clash(one: DocumentPath, two: DocumentPath): string | undefined {
  const shared = Math.min(one.length, two.length);
  for (let k = 0; k < shared; k++) {
    if (one[k] === two[k]) continue;
    if (typeof one[k] !== typeof two[k]) {
      return `Two document paths conflict with each other; must remove or rewrite one of these paths; path one: ${formatPath(one)}, path two: ${formatPath(two)}`;
    }
    return undefined;
  }
  return `Two document paths overlap with each other; must remove or rewrite one of these paths; path one: ${formatPath(one)}, path two: ${formatPath(two)}`;
}
