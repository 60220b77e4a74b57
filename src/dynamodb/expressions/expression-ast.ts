import type { AttributeValue } from "../model/attribute-value.js";

/**
 * The syntax trees of DynamoDB's expression languages (developer guide, "Using expressions in
 * DynamoDB"). Each tree exists in two phases: as parsed (`Parsed`: names may be `#placeholders`,
 * values are `:placeholders`) and as resolved against ExpressionAttributeNames and
 * ExpressionAttributeValues (`Resolved`: plain attribute names and typed values). Evaluation
 * only ever sees resolved trees, so it needs no placeholder maps.
 */
export interface Phase {
  readonly name: unknown;
  readonly value: unknown;
}

/** A path element as written: a plain name, a #placeholder or a list index. */
export type ParsedPathElement =
  | { readonly kind: "name"; readonly name: string }
  | { readonly kind: "placeholder"; readonly placeholder: string }
  | { readonly kind: "index"; readonly index: number };

export interface Parsed extends Phase {
  readonly name: ParsedPathElement;
  readonly value: string;
}

/** After substitution a path element is an attribute name (string) or a list index (number). */
export type PathElement = string | number;
/** A document path (developer guide, "Specifying item attributes"): a.b[3].c is ["a", "b", 3, "c"]. */
export type DocumentPath = readonly PathElement[];

export interface Resolved extends Phase {
  readonly name: PathElement;
  readonly value: AttributeValue;
}

export type Path<P extends Phase> = readonly P["name"][];

/**
 * Something a comparison or function takes: a path, a value, size(path), or size(:value)
 * (undocumented, but DynamoDB accepts it; resolution turns it into a plain value).
 */
export type Operand<P extends Phase> =
  | { readonly kind: "path"; readonly path: Path<P> }
  | { readonly kind: "value"; readonly value: P["value"] }
  | { readonly kind: "size"; readonly path: Path<P> }
  | { readonly kind: "sizeOfValue"; readonly value: P["value"] };

export type Comparator = "=" | "<>" | "<" | "<=" | ">" | ">=";

export type ConditionFunctionName = "attribute_exists" | "attribute_not_exists" | "attribute_type" | "begins_with" | "contains";

/** Condition and filter expressions (developer guide, "Condition and filter expressions"). */
export type Condition<P extends Phase> =
  | { readonly kind: "compare"; readonly op: Comparator; readonly left: Operand<P>; readonly right: Operand<P> }
  | { readonly kind: "between"; readonly operand: Operand<P>; readonly low: Operand<P>; readonly high: Operand<P> }
  | { readonly kind: "in"; readonly operand: Operand<P>; readonly list: readonly Operand<P>[] }
  | { readonly kind: "and" | "or"; readonly left: Condition<P>; readonly right: Condition<P> }
  | { readonly kind: "not"; readonly condition: Condition<P> }
  | { readonly kind: "attribute_exists" | "attribute_not_exists"; readonly path: Path<P> }
  | { readonly kind: "attribute_type"; readonly path: Path<P>; readonly type: Operand<P> }
  | { readonly kind: "begins_with" | "contains"; readonly path: Path<P>; readonly operand: Operand<P> };

/** A value on the right of SET (developer guide, "Update expressions", SET). */
export type SetOperand<P extends Phase> =
  | { readonly kind: "path"; readonly path: Path<P> }
  | { readonly kind: "value"; readonly value: P["value"] }
  | { readonly kind: "if_not_exists"; readonly path: Path<P>; readonly fallback: SetOperand<P> }
  | { readonly kind: "list_append"; readonly first: SetOperand<P>; readonly second: SetOperand<P> };

export type SetValue<P extends Phase> =
  | { readonly kind: "operand"; readonly operand: SetOperand<P> }
  | { readonly kind: "plus" | "minus"; readonly left: SetOperand<P>; readonly right: SetOperand<P> };

export type UpdateAction<P extends Phase> =
  | { readonly kind: "set"; readonly path: Path<P>; readonly value: SetValue<P> }
  | { readonly kind: "remove"; readonly path: Path<P> }
  | { readonly kind: "add" | "delete"; readonly path: Path<P>; readonly value: P["value"] };

/** An update expression: its actions in the order written, clauses at most once each. */
export interface Update<P extends Phase> {
  readonly actions: readonly UpdateAction<P>[];
}

/** A projection expression: the paths to keep. */
export type Projection<P extends Phase> = readonly Path<P>[];

export type ParsedCondition = Condition<Parsed>;
export type ResolvedCondition = Condition<Resolved>;
export type ParsedUpdate = Update<Parsed>;
export type ResolvedUpdate = Update<Resolved>;
export type ParsedProjection = Projection<Parsed>;
export type ResolvedProjection = Projection<Resolved>;
