/**
 * What changing a column's type does to the rows already in it, for `ALTER COLUMN … TYPE`
 * without a USING clause (PostgreSQL then converts with its assignment cast, or refuses when there
 * is none). Every class below is verified against PostgreSQL 18 by test/unit/type-change.test.ts,
 * which runs each listed conversion on real rows and checks whether PostgreSQL accepts it, whether
 * the table file was rewritten (relfilenode) and whether every value survives the round trip:
 *
 * - `binary`: binary-coercible (varchar(10) → varchar(20), varchar → text, numeric(8,2) →
 *   numeric(12,2), timestamp(3) → timestamp): no rewrite, no value changes;
 * - `rewrite`: every row is rewritten under an ACCESS EXCLUSIVE lock, no value changes
 *   (integer → bigint, date → timestamptz, anything → text);
 * - `narrowing`: rewritten, and PostgreSQL refuses the whole change if a value does not fit
 *   (text → varchar(5), bigint → integer): nothing is truncated, but the apply can fail;
 * - `lossy`: rewritten, and the assignment cast silently changes values (numeric(10,2) → integer
 *   rounds 19.99 to 20; timestamptz → date drops the time of day; json → jsonb drops duplicate
 *   keys): only with LOSES_DATA allowed, or a `using:` conversion the user wrote;
 * - `needs-using`: PostgreSQL has no assignment cast (text → integer, integer → boolean) and
 *   refuses without a USING clause: the configuration must give `using:`.
 *
 * The tool never writes `USING col::newtype`: that explicit cast is what turns PostgreSQL's
 * refusal into silent truncation (text → varchar(5) would cut every longer value).
 * Conversions not listed here (extension types, enums, domains, ranges) are treated as lossy.
 */
import { canonicalType, parseType, type ParsedType } from './types.js';

/** How a type change treats existing values (see module doc). */
export type TypeChangeClass = 'same' | 'binary' | 'rewrite' | 'narrowing' | 'lossy' | 'needs-using';

/** A classified type change with the reason in a few words. */
export interface TypeChange {
  kind: TypeChangeClass;
  reason: string;
}

const INTS: Record<string, number> = { int2: 16, int4: 32, int8: 64 };
/** Decimal digits an integer type can need. */
const INT_DIGITS: Record<string, number> = { int2: 5, int4: 10, int8: 19 };
const FLOATS: Record<string, number> = { float4: 24, float8: 53 };
const STRINGS = new Set(['text', 'varchar', 'bpchar']);
/** Precision-carrying types whose modifier is fractional seconds. */
const PRECISION_TYPES = new Set(['timestamp', 'timestamptz', 'time', 'timetz', 'interval']);

const change = (kind: TypeChangeClass, reason: string): TypeChange => ({ kind, reason });

/** Classifies changing a column from type `from` to type `to` (any spelling PostgreSQL accepts). */
export function classifyTypeChange(from: string, to: string): TypeChange {
  const a = parseType(from);
  const b = parseType(to);
  if (!a || !b) return change('lossy', 'one of the types is not understood');
  if (sameType(a, b)) return change('same', 'same type');
  if (a.array !== b.array) {
    if (isUnboundedString(b) && !b.array) return change('rewrite', 'converted to its text form');
    return change('needs-using', a.array ? 'an array cannot become a single value without a conversion' : 'a value cannot become an array without a conversion');
  }
  if (a.array) {
    const element = classifyScalar({ ...a, array: false }, { ...b, array: false });
    // PostgreSQL converts arrays element by element (ArrayCoerceExpr): always a rewrite.
    return element.kind === 'binary' ? change('rewrite', 'each element is converted') : element;
  }
  return classifyScalar(a, b);
}

function sameType(a: ParsedType, b: ParsedType): boolean {
  return a.schema === b.schema && a.name === b.name && a.array === b.array && a.mods.join(',') === b.mods.join(',');
}

function isUnboundedString(t: ParsedType): boolean {
  return !t.schema && (t.name === 'text' || (t.name === 'varchar' && t.mods.length === 0));
}

function classifyScalar(a: ParsedType, b: ParsedType): TypeChange {
  if (a.schema || b.schema) return change('lossy', 'a conversion the tool has no knowledge of');
  const [from, to] = [a.name, b.name];

  // Strings.
  if (isUnboundedString(b)) {
    if (from === 'text' || from === 'varchar') return change('binary', 'binary-coercible');
    if (from === 'bpchar') return change('rewrite', 'trailing blanks of char(n) are removed, as char(n) comparisons ignore them');
    return change('rewrite', 'converted to its text form');
  }
  if (to === 'varchar') {
    const n = b.mods[0]!;
    if (from === 'varchar' && a.mods.length > 0 && a.mods[0]! <= n) return change('binary', 'a longer limit');
    if (from === 'bpchar' && (a.mods[0] ?? 1) <= n) return change('rewrite', 'trailing blanks of char(n) are removed');
    return change('narrowing', `PostgreSQL refuses values longer than ${n} characters`);
  }
  if (to === 'bpchar') {
    const n = b.mods[0] ?? 1;
    if (from === 'bpchar' && (a.mods[0] ?? 1) < n) return change('rewrite', 'values are padded to the new length');
    return change('narrowing', `PostgreSQL refuses values longer than ${n} characters`);
  }
  if (STRINGS.has(from)) return change('needs-using', `PostgreSQL has no automatic conversion from ${display(a)} to ${display(b)}`);

  // Numbers.
  if (INTS[from] && INTS[to]) {
    return INTS[to]! > INTS[from]! ? change('rewrite', 'a wider integer') : change('narrowing', 'PostgreSQL refuses values out of the smaller range');
  }
  if (INTS[from] && to === 'numeric') {
    if (b.mods.length === 0) return change('rewrite', 'every integer fits');
    const [p, s = 0] = b.mods as [number, number?];
    return p - s >= INT_DIGITS[from]! ? change('rewrite', 'every integer fits') : change('narrowing', `PostgreSQL refuses values with more than ${p - s} integer digits`);
  }
  if (INTS[from] && FLOATS[to]) {
    return INTS[from]! < FLOATS[to]! ? change('rewrite', 'every integer is exact') : change('lossy', `large integers lose digits in ${to === 'float4' ? 'real' : 'double precision'}`);
  }
  if (from === 'numeric' && to === 'numeric') return numericChange(a.mods, b.mods);
  if (from === 'numeric' && INTS[to]) return change('lossy', 'fractions are rounded to whole numbers');
  if (from === 'numeric' && FLOATS[to]) return change('lossy', 'digits beyond the float precision are lost');
  if (FLOATS[from] && INTS[to]) return change('lossy', 'fractions are rounded to whole numbers');
  if (FLOATS[from] && FLOATS[to]) return FLOATS[to]! > FLOATS[from]! ? change('rewrite', 'a wider float') : change('lossy', 'digits beyond real precision are lost');
  if (FLOATS[from] && to === 'numeric') return change('lossy', 'the conversion keeps only the float type\'s guaranteed digits');

  // Dates and times.
  if (from === to && PRECISION_TYPES.has(from)) {
    if (b.mods.length === 0 || (a.mods.length > 0 && b.mods[0]! >= a.mods[0]!)) return change('binary', 'a finer precision');
    return change('lossy', `fractional seconds are rounded to ${b.mods[0]} digits`);
  }
  if (from === 'date' && (to === 'timestamp' || to === 'timestamptz')) return change('rewrite', 'each date becomes its midnight');
  if (from === 'timestamp' && to === 'timestamptz') return change('rewrite', 'local times are read in the server session\'s time zone');
  if (from === 'timestamptz' && to === 'timestamp') return change('lossy', 'the time zone is dropped: values become local times of the session\'s time zone (ambiguous around DST changes)');
  if ((from === 'timestamp' || from === 'timestamptz') && to === 'date') return change('lossy', 'the time of day is dropped');
  if ((from === 'timestamp' || from === 'timestamptz') && to === 'time') return change('lossy', 'the date is dropped');
  if (from === 'time' && to === 'timetz') return change('rewrite', 'times get the session\'s time zone');
  if (from === 'timetz' && to === 'time') return change('lossy', 'the time zone is dropped');
  if (from === 'time' && to === 'interval') return change('rewrite', 'a time becomes the interval since midnight');
  if (from === 'interval' && to === 'time') return change('lossy', 'days and intervals of 24 hours or more are lost');

  // Other built-ins.
  if (from === 'json' && to === 'jsonb') return change('lossy', 'jsonb drops duplicate keys, key order and formatting');
  if (from === 'jsonb' && to === 'json') return change('rewrite', 'converted to its text form');
  if (from === 'cidr' && to === 'inet') return change('binary', 'binary-coercible');
  if (from === 'inet' && to === 'cidr') return change('lossy', 'host bits beyond the netmask are dropped');
  if (from === 'macaddr' && to === 'macaddr8') return change('rewrite', 'a longer address');
  if (from === 'macaddr8' && to === 'macaddr') return change('narrowing', 'PostgreSQL refuses 8-byte addresses that do not map to 6 bytes');
  if (from === 'bit' && to === 'varbit') return change('binary', 'binary-coercible');
  const known = new Set(['bool', 'uuid', 'bytea', 'json', 'jsonb', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'inet', 'cidr', 'macaddr', 'macaddr8', 'numeric', 'money', 'bit', 'varbit', ...Object.keys(INTS), ...Object.keys(FLOATS)]);
  if (known.has(from) && known.has(to)) return change('needs-using', `PostgreSQL has no automatic conversion from ${display(a)} to ${display(b)}`);
  return change('lossy', 'a conversion the tool has no knowledge of');
}

/** How PostgreSQL names the type (format_type), without modifiers. */
function display(t: ParsedType): string {
  return canonicalType(t.name) ?? t.name;
}

function numericChange(fromMods: number[], toMods: number[]): TypeChange {
  if (toMods.length === 0) return change('binary', 'unconstrained numeric keeps every value');
  const [p2, s2 = 0] = toMods as [number, number?];
  if (fromMods.length === 0) return change('lossy', `values are rounded to ${s2} decimal places`);
  const [p1, s1 = 0] = fromMods as [number, number?];
  if (s2 < s1) return change('lossy', `values are rounded to ${s2} decimal places`);
  if (p2 - s2 < p1 - s1) return change('narrowing', `PostgreSQL refuses values with more than ${p2 - s2} integer digits`);
  return s2 === s1 ? change('binary', 'a larger precision') : change('rewrite', 'more decimal places');
}
