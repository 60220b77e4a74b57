/**
 * DynamoDB's typed attribute value (API reference, "AttributeValue"): exactly one of ten data
 * types. Numbers are kept as normalised decimal strings (see dynamo-number.ts) so that no value
 * ever passes through floating point; binaries are raw bytes (base64 only on the wire).
 * Sets are arrays without duplicates; their order carries no meaning.
 */
export type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly B: Uint8Array }
  | { readonly BOOL: boolean }
  | { readonly NULL: true }
  | { readonly M: Readonly<Record<string, AttributeValue>> }
  | { readonly L: readonly AttributeValue[] }
  | { readonly SS: readonly string[] }
  | { readonly NS: readonly string[] }
  | { readonly BS: readonly Uint8Array[] };

/** An item: top-level attribute names to values. */
export type Item = Readonly<Record<string, AttributeValue>>;

/** The type descriptors, as DynamoDB spells them. */
export const attributeTypes = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"] as const;
export type AttributeType = (typeof attributeTypes)[number];

/** The types a key attribute (partition or sort key) may have. */
export type KeyAttributeType = "S" | "N" | "B";

export function isAttributeType(name: string): name is AttributeType {
  return (attributeTypes as readonly string[]).includes(name);
}

/** The type descriptor of a value; exactly one key is present by construction. */
export function attributeTypeOf(value: AttributeValue): AttributeType {
  if ("S" in value) return "S";
  if ("N" in value) return "N";
  if ("B" in value) return "B";
  if ("BOOL" in value) return "BOOL";
  if ("NULL" in value) return "NULL";
  if ("M" in value) return "M";
  if ("L" in value) return "L";
  if ("SS" in value) return "SS";
  if ("NS" in value) return "NS";
  return "BS";
}
