/**
 * Number policy. cty numbers are arbitrary-precision decimals; the framework
 * hands providers plain JS `number`s:
 *
 * - Integers must be safe integers (|n| ≤ 2^53−1). A larger integer (msgpack
 *   int64/uint64, an integer-valued decimal string, or a JSON number) is an
 *   error, never silently rounded: ids and counts must stay exact.
 * - Fractions become the nearest IEEE-754 double (`Number(text)`).
 *   Terraform sends a fraction that a double cannot hold exactly, such as
 *   `0.1`, as a decimal *string*; that is accepted.
 * - NaN is rejected; ±Infinity is rejected (cty has infinities, but no
 *   provider in this project needs them).
 *
 * On the way out, safe integers are msgpack integers and every other finite
 * number is sent as the shortest decimal string that round-trips
 * (`String(n)`), i.e. the decimal the JS number stands for. go-cty parses it
 * exactly and compares numbers by their shortest decimal text, so a
 * configured `0.1` and our `"0.1"` are equal. (A float64 0.1 is accepted by
 * Terraform 1.11 too, checked by hand; the string leaves nothing to binary
 * rounding on the other side.)
 * The only loss: a configured fraction with more than 17 significant digits.
 */
import { CtyValueError, type Location } from './path.js';

const INTEGER_TEXT = /^[-+]?\d+$/;

/** Converts a decoded msgpack/JSON number (number, bigint or decimal string) to a JS number. */
export function numberFromWire(value: unknown, path: Location): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CtyValueError(`number ${value} is not finite`, path);
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      throw new CtyValueError(`integer ${value} is outside the safe integer range (±2^53-1)`, path);
    }
    return value;
  }
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new CtyValueError(`integer ${value} is outside the safe integer range (±2^53-1)`, path);
    }
    return Number(value);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    if (INTEGER_TEXT.test(text)) return numberFromWire(BigInt(text), path);
    const n = Number(text);
    if (text === '' || Number.isNaN(n)) throw new CtyValueError(`invalid number ${JSON.stringify(value)}`, path);
    return numberFromWire(n, path);
  }
  throw new CtyValueError(`expected number, got ${value === null ? 'null' : typeof value}`, path);
}

/**
 * The msgpack form of a JS number: a safe integer as is, a fraction as its
 * shortest decimal text. Throws `CtyValueError` for unsafe integers and
 * non-finite numbers (they could not be read back under the same policy).
 */
export function numberToWire(value: number, path: Location): number | string {
  if (!Number.isFinite(value)) throw new CtyValueError(`number ${value} is not finite`, path);
  if (Number.isSafeInteger(value)) return value;
  if (Number.isInteger(value)) throw new CtyValueError(`integer ${value} is outside the safe integer range (±2^53-1)`, path);
  return String(value);
}
