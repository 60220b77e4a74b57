/**
 * What a write asks a replica to store, and the condition it must meet. Shared by the
 * replica's `ItemStore` and the coordinators that call it.
 */
export interface ItemWrite {
  value: Uint8Array;
  contentType: string;
  /** User metadata, names lower-cased; bounded by limits.metadataBytesMax at the edge. */
  metadata: Record<string, string>;
  /** Absolute expiry (ms since the epoch) or null. */
  expiresAtMs: number | null;
}

/**
 * HTTP's conditional-request semantics over record versions (unquoted ETags):
 * `ifNoneMatch: "*"` creates only; `ifMatch` replaces only one of the listed versions
 * ("*": any live version). Absent fields impose nothing.
 */
export interface WriteCondition {
  ifMatch?: "*" | readonly string[];
  ifNoneMatch?: "*" | readonly string[];
}

export const unconditional: Readonly<WriteCondition> = Object.freeze({});
