import { ok, validationError, type Result } from "./validation-error.js";

/**
 * DynamoDB's Number type (developer guide, "Data types", Number): up to 38 significant digits,
 * positive magnitudes from 1E-130 to 9.9999999999999999999999999999999999999E+125 (and the
 * same negatives, and zero). Numbers travel as decimal strings; we keep them normalised (no
 * leading or trailing zeros, no exponent, "-0" is "0") and compute on BigInt coefficients, so
 * arithmetic and comparison are exact.
 */
export const numberDigitsMax = 38;
/** Decimal exponent of the most significant digit, at most (9.99..E+125). */
export const numberExponentMax = 125;
/** Decimal exponent of the most significant digit, at least (1E-130). */
export const numberExponentMin = -130;

/** value = sign * coefficient * 10^exponent; coefficient has no trailing zeros (or is 0n). */
export interface DecimalParts {
  readonly negative: boolean;
  readonly coefficient: bigint;
  readonly exponent: number;
}

const numberSyntax = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** Exponent digits we read before judging the magnitude; longer ones are surely out of range. */
const exponentTextMax = 6;

export const numberMessages = {
  digits: "Attempting to store more than 38 significant digits in a Number",
  overflow: "Number overflow. Attempting to store a number with magnitude larger than supported range",
  underflow: "Number underflow. Attempting to store a number with magnitude smaller than supported range",
  notNumeric: (text: string) => `The parameter cannot be converted to a numeric value: ${text}`,
};

/** Reads a DynamoDB number string into parts, checking syntax, digits and magnitude. */
export function parseDecimal(text: string): Result<DecimalParts> {
  const match = numberSyntax.exec(text);
  const whole = match?.[2] ?? "";
  const fraction = match?.[3] ?? "";
  if (match === null || whole.length + fraction.length === 0) return validationError(numberMessages.notNumeric(text));
  const exponentText = match[4] ?? "0";
  const digitsAll = (whole + fraction).replace(/^0+/, "");
  if (digitsAll.length === 0) return ok(zeroParts);
  if (exponentText.replace(/^[+-]?0*/, "").length > exponentTextMax) {
    return validationError(exponentText.startsWith("-") ? numberMessages.underflow : numberMessages.overflow);
  }
  const trimmed = digitsAll.replace(/0+$/, "");
  const exponent = Number(exponentText) - fraction.length + (digitsAll.length - trimmed.length);
  // Too many digits is refused before BigInt sees them, so a huge string costs no big arithmetic.
  if (trimmed.length > numberDigitsMax) return checkLeadingExponent(exponent + trimmed.length - 1) ?? validationError(numberMessages.digits);
  return checkDecimal({ negative: match[1] === "-", coefficient: BigInt(trimmed), exponent });
}

const zeroParts: DecimalParts = Object.freeze({ negative: false, coefficient: 0n, exponent: 0 });

/** Normalises parts (strips trailing zeros) and checks DynamoDB's digit and magnitude limits. */
export function checkDecimal(parts: DecimalParts): Result<DecimalParts> {
  if (parts.coefficient === 0n) return ok(zeroParts);
  let { coefficient, exponent } = parts;
  while (coefficient % 10n === 0n) {
    coefficient /= 10n;
    exponent += 1;
  }
  const digits = coefficient.toString().length;
  const outOfRange = checkLeadingExponent(exponent + digits - 1);
  if (outOfRange !== undefined) return outOfRange;
  if (digits > numberDigitsMax) return validationError(numberMessages.digits);
  return ok({ negative: parts.negative, coefficient, exponent });
}

function checkLeadingExponent(leading: number): Result<never> | undefined {
  if (leading > numberExponentMax) return validationError(numberMessages.overflow);
  if (leading < numberExponentMin) return validationError(numberMessages.underflow);
  return undefined;
}

/** The normalised plain decimal string of valid parts: "-12.5", "1000", "0.001", "0". */
export function formatDecimal(parts: DecimalParts): string {
  if (parts.coefficient === 0n) return "0";
  const digits = parts.coefficient.toString();
  const sign = parts.negative ? "-" : "";
  if (parts.exponent >= 0) return sign + digits + "0".repeat(parts.exponent);
  const point = digits.length + parts.exponent;
  if (point > 0) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign}0.${"0".repeat(-point)}${digits}`;
}

/** Integers already in normal form and within every limit (counters, timestamps): the common case. */
const normalInteger = /^(?:0|-?[1-9][0-9]{0,37})$/;

/** Validates and normalises a DynamoDB number string: "+01.50" -> "1.5", "-0" -> "0", "1e3" -> "1000". */
export function normalizeNumber(text: string): Result<string> {
  if (normalInteger.test(text)) return ok(text);
  const parts = parseDecimal(text);
  return parts.ok ? ok(formatDecimal(parts.value)) : parts;
}

/** Parts of a number already known valid (stored or normalised); an invalid one is a bug. */
function partsOf(text: string): DecimalParts {
  const parts = parseDecimal(text);
  if (!parts.ok) throw new TypeError(`not a valid DynamoDB number: ${text}`);
  return parts.value;
}

function signed(parts: DecimalParts): bigint {
  return parts.negative ? -parts.coefficient : parts.coefficient;
}

/** Both coefficients scaled to the smaller exponent, so they can be added or compared. */
function aligned(a: DecimalParts, b: DecimalParts): { a: bigint; b: bigint; exponent: number } {
  const exponent = Math.min(a.exponent, b.exponent);
  return {
    a: signed(a) * 10n ** BigInt(a.exponent - exponent),
    b: signed(b) * 10n ** BigInt(b.exponent - exponent),
    exponent,
  };
}

function sumOf(a: DecimalParts, b: DecimalParts, sign: 1n | -1n): Result<string> {
  const x = aligned(a, b);
  const total = x.a + sign * x.b;
  const parts = checkDecimal({ negative: total < 0n, coefficient: total < 0n ? -total : total, exponent: x.exponent });
  return parts.ok ? ok(formatDecimal(parts.value)) : parts;
}

/** Exact a + b of two valid numbers; fails as DynamoDB does when the sum leaves the range. */
export function addNumbers(a: string, b: string): Result<string> {
  return sumOf(partsOf(a), partsOf(b), 1n);
}

/** Exact a - b of two valid numbers. */
export function subtractNumbers(a: string, b: string): Result<string> {
  return sumOf(partsOf(a), partsOf(b), -1n);
}

/** Numeric order of two valid numbers: negative, zero or positive like a comparator. */
export function compareNumbers(a: string, b: string): number {
  const x = aligned(partsOf(a), partsOf(b));
  return x.a < x.b ? -1 : x.a > x.b ? 1 : 0;
}
