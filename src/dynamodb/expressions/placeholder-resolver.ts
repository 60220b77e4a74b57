import type { AttributeValue } from "../model/attribute-value.js";
import { ok, type Result } from "../model/validation-error.js";
import type { DocumentPath, ParsedPathElement, PathElement } from "./expression-ast.js";
import { invalid, type ExpressionKind } from "./expression-parser.js";

/**
 * Substitutes ExpressionAttributeNames and ExpressionAttributeValues into parsed paths and
 * values (developer guide, "Expression attribute names", "Expression attribute values"), and
 * remembers which placeholders the request's expressions used, so that unused ones can be
 * refused once every expression of the request is resolved.
 */
export class PlaceholderResolver {
  readonly usedNames = new Set<string>();
  readonly usedValues = new Set<string>();

  constructor(
    private readonly names: Readonly<Record<string, string>>,
    private readonly values: Readonly<Record<string, AttributeValue>>,
  ) {}

  path(kind: ExpressionKind, elements: readonly ParsedPathElement[]): Result<DocumentPath> {
    const out: PathElement[] = [];
    for (const element of elements) {
      if (element.kind === "index") {
        out.push(element.index);
      } else if (element.kind === "name") {
        out.push(element.name);
      } else {
        if (!Object.hasOwn(this.names, element.placeholder)) {
          return invalid(kind, `An expression attribute name used in the document path is not defined; attribute name: ${element.placeholder}`);
        }
        this.usedNames.add(element.placeholder);
        out.push(this.names[element.placeholder]!);
      }
    }
    return ok(out);
  }

  value(kind: ExpressionKind, ref: string): Result<AttributeValue> {
    if (!Object.hasOwn(this.values, ref)) {
      return invalid(kind, `An expression attribute value used in expression is not defined; attribute value: ${ref}`);
    }
    this.usedValues.add(ref);
    return ok(this.values[ref]!);
  }

  unusedNames(): string[] {
    return Object.keys(this.names).filter((name) => !this.usedNames.has(name));
  }

  unusedValues(): string[] {
    return Object.keys(this.values).filter((name) => !this.usedValues.has(name));
  }
}
