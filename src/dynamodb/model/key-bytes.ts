import { assert } from "../../assert.js";
import type { AttributeValue, KeyAttributeType } from "./attribute-value.js";
import { formatDecimal, numberDigitsMax, numberExponentMin, parseDecimal } from "./dynamo-number.js";

/**
 * Key attribute values (S, N, B) as bytes whose unsigned byte order (memcmp) equals DynamoDB's
 * sort order for that type, so a sort key range is a byte range in storage (storage/item-key.ts
 * escapes and concatenates them). S: its UTF-8 bytes (DynamoDB orders strings by UTF-8 bytes).
 * B: the bytes themselves. N: an order-preserving decimal encoding:
 *
 *   zero      [0x02]
 *   positive  [0x03][leading exponent + 130][digit, digit, ...]
 *   negative  [0x01][255 - (leading exponent + 130)][9 - digit, ...][0xFF]
 *
 * The leading exponent (of the most significant digit) spans -130..125, so it fits one byte.
 * Normalised digits have no trailing zeros, so among positives with one exponent a shorter
 * digit string that is a prefix of a longer one is the smaller number, as memcmp says. For
 * negatives the digits are complemented and a 0xFF terminator (above every complemented digit)
 * makes the shorter prefix sort after the longer one, which is the larger negative number.
 */
const numberNegative = 0x01;
const numberZero = 0x02;
const numberPositive = 0x03;
const negativeTerminator = 0xff;
/** Header plus digits plus terminator: the longest encoded number. */
export const numberKeyBytesMax = 2 + numberDigitsMax + 1;

const utf8 = new TextEncoder();

export function keyBytes(value: AttributeValue): Uint8Array {
  if ("S" in value) return stringKeyBytes(value.S);
  if ("B" in value) return value.B;
  assert("N" in value, "keyBytes: a key attribute is S, N or B");
  return numberKeyBytes(value.N);
}

/**
 * The UTF-8 bytes of a string key. A short ASCII key (the common one: up to 64 characters, which
 * V8 allocates inside its heap) is copied character by character, several times cheaper than
 * TextEncoder's call into C++ and its own buffer; anything else goes to TextEncoder.
 */
export function stringKeyBytes(text: string): Uint8Array {
  const length = text.length;
  if (length > shortKeyCharsMax) return utf8.encode(text);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) return utf8.encode(text);
    out[i] = code;
  }
  return out;
}

const shortKeyCharsMax = 64;

export function numberKeyBytes(number: string): Uint8Array {
  const parsed = parseDecimal(number);
  assert(parsed.ok, `numberKeyBytes: not a valid number: ${number}`);
  const { negative, coefficient, exponent } = parsed.value;
  if (coefficient === 0n) return Uint8Array.of(numberZero);
  const digits = coefficient.toString();
  const leadingByte = exponent + digits.length - 1 - numberExponentMin;
  assert(leadingByte >= 0 && leadingByte <= 0xff, "numberKeyBytes: exponent outside DynamoDB's range");
  const out = new Uint8Array(2 + digits.length + (negative ? 1 : 0));
  out[0] = negative ? numberNegative : numberPositive;
  out[1] = negative ? 0xff - leadingByte : leadingByte;
  for (let i = 0; i < digits.length; i++) {
    const digit = digits.charCodeAt(i) - 48;
    out[2 + i] = negative ? 9 - digit : digit;
  }
  if (negative) out[out.length - 1] = negativeTerminator;
  return out;
}

/** The inverse of `keyBytes`, given the key attribute's type from the table's definition. */
export function keyFromBytes(type: KeyAttributeType, bytes: Uint8Array): AttributeValue {
  if (type === "S") return { S: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  if (type === "B") return { B: bytes.slice() };
  return { N: numberFromKeyBytes(bytes) };
}

export function numberFromKeyBytes(bytes: Uint8Array): string {
  const kind = bytes[0];
  if (kind === numberZero) {
    assert(bytes.length === 1, "numberFromKeyBytes: zero has no digits");
    return "0";
  }
  assert(kind === numberNegative || kind === numberPositive, `numberFromKeyBytes: bad sign byte ${kind}`);
  const negative = kind === numberNegative;
  assert(bytes.length >= (negative ? 4 : 3), "numberFromKeyBytes: too short");
  if (negative) assert(bytes[bytes.length - 1] === negativeTerminator, "numberFromKeyBytes: missing terminator");
  const leading = (negative ? 0xff - bytes[1]! : bytes[1]!) + numberExponentMin;
  let digits = "";
  for (let i = 2; i < bytes.length - (negative ? 1 : 0); i++) {
    const digit = negative ? 9 - bytes[i]! : bytes[i]!;
    assert(digit >= 0 && digit <= 9, "numberFromKeyBytes: bad digit");
    digits += String(digit);
  }
  const exponent = leading - digits.length + 1;
  return formatDecimal({ negative, coefficient: BigInt(digits), exponent });
}
