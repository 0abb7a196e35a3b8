import { describe, expect, it } from 'vitest';
import { decode, encode } from '@msgpack/msgpack';
import { decodeMsgpack, encodeMsgpack, decodeRefinements, encodeRefinements } from '../../src/terraform/cty/msgpack.js';
import { decodeJson, encodeJson } from '../../src/terraform/cty/json.js';
import { encodeCtyType, formatCtyType, parseCtyType, t, type CtyType } from '../../src/terraform/cty/types.js';
import { ctyEqual, CtyValueError, isUnknown, isWhollyKnown, Unknown, UNKNOWN, unknown } from '../../src/terraform/cty/values.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('cty types', () => {
  it('encodes types as the compact JSON Terraform expects in Schema.Attribute.type', () => {
    expect(encodeCtyType(t.string).toString()).toBe('"string"');
    expect(encodeCtyType(t.list(t.string)).toString()).toBe('["list","string"]');
    expect(encodeCtyType(t.map(t.object({ a: t.number, b: t.set(t.bool) }))).toString()).toBe('["map",["object",{"a":"number","b":["set","bool"]}]]');
  });

  it('parses JSON types back and refuses dynamic', () => {
    const ty: CtyType = ['object', { x: ['list', 'string'], y: ['tuple', ['bool', 'number']] }];
    expect(parseCtyType(JSON.parse(JSON.stringify(ty)))).toEqual(ty);
    expect(() => parseCtyType('dynamic')).toThrow(/unsupported cty type/);
    expect(formatCtyType(ty)).toBe('object({x=list(string), y=tuple([bool, number])})');
  });
});

describe('msgpack codec', () => {
  const obj = t.object({ s: t.string, n: t.number, b: t.bool, l: t.list(t.string) });

  it('round-trips an object and writes one map entry per attribute, missing ones as nil', () => {
    const bytes = encodeMsgpack({ s: 'x', n: 3 }, obj);
    expect(decode(bytes)).toEqual({ s: 'x', n: 3, b: null, l: null });
    expect(decodeMsgpack(bytes, obj)).toEqual({ s: 'x', n: 3, b: null, l: null });
  });

  it('rejects attributes the type does not declare, naming them', () => {
    expect(() => encodeMsgpack({ s: 'x', typo: 1 }, obj)).toThrow(/typo: unsupported attribute/);
  });

  it('reports type mismatches with the path of the offending value', () => {
    try {
      encodeMsgpack({ l: ['a', 2] }, obj);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(CtyValueError);
      expect((e as CtyValueError).path).toEqual(['l', 1]);
      expect((e as CtyValueError).reason).toBe('expected string, got number');
    }
  });

  it("decodes go-cty's unknown (ext 0, bytes d4 00 00) as Unknown and writes it back identically", () => {
    const v = decodeMsgpack(fromHex('d40000'), t.string);
    expect(isUnknown(v)).toBe(true);
    expect(hex(encodeMsgpack(UNKNOWN, t.string))).toBe('d40000');
  });

  it('decodes a refined unknown (ext 12) with its refinements', () => {
    // ext 12 payload: {1: false, 2: "x-"} → not null, prefix "x-"
    const payload = fromHex('82 01 c2 02 a2 782d');
    const bytes = Buffer.concat([Buffer.of(0xc7, payload.length, 12), payload]);
    const v = decodeMsgpack(bytes, t.string);
    expect(v).toBeInstanceOf(Unknown);
    expect((v as Unknown).refinements).toEqual({ notNull: true, stringPrefix: 'x-' });
  });

  it('encodes refined unknowns as ext 12 with integer keys, and round-trips number and length bounds', () => {
    const r = { notNull: true, numberLower: [0, true] as const, numberUpper: [1.5, false] as const, lengthLower: 1, lengthUpper: 3 };
    const payload = encodeRefinements(r);
    expect(payload[0]).toBe(0x85); // fixmap with 5 entries
    expect(decode(payload)).toEqual({ 1: false, 3: [0, true], 4: ['1.5', false], 5: 1, 6: 3 });
    expect(decodeRefinements(payload)).toEqual(r);
    const bytes = encodeMsgpack(unknown(r), t.number);
    expect(bytes[2]).toBe(12); // ext8 header: c7 <len> <type>
    expect((decodeMsgpack(bytes, t.number) as Unknown).refinements).toEqual(r);
  });

  it('ignores refinement keys it does not know and treats other extension codes as unknown', () => {
    const payload = fromHex('82 02 a1 61 63 c3'); // {2:"a", 99:true}
    expect(decodeRefinements(payload)).toEqual({ stringPrefix: 'a' });
    const other = decodeMsgpack(fromHex('d4 05 00'), t.bool);
    expect(isUnknown(other)).toBe(true);
  });

  it('keeps unknowns nested inside known containers', () => {
    const ty = t.object({ l: t.list(t.string) });
    const v = decodeMsgpack(encodeMsgpack({ l: ['a', UNKNOWN] }, ty), ty) as { l: unknown[] };
    expect(v.l[0]).toBe('a');
    expect(isUnknown(v.l[1])).toBe(true);
    expect(isWhollyKnown(v)).toBe(false);
  });

  it('treats empty DynamicValue bytes and nil as null', () => {
    expect(decodeMsgpack(Buffer.alloc(0), obj)).toBeNull();
    expect(decodeMsgpack(fromHex('c0'), obj)).toBeNull();
  });
});

describe('number policy', () => {
  it('sends safe integers as msgpack integers and fractions as their shortest decimal string', () => {
    expect(decode(encodeMsgpack(42, t.number))).toBe(42);
    expect(decode(encodeMsgpack(0.1, t.number))).toBe('0.1');
    expect(decode(encodeMsgpack(-2.5e-7, t.number))).toBe('-2.5e-7');
  });

  it('accepts the decimal strings Terraform sends for inexact numbers, and float64', () => {
    expect(decodeMsgpack(fromHex('a3 302e31'), t.number)).toBe(0.1); // "0.1"
    expect(decodeMsgpack(fromHex('cb 3ff8000000000000'), t.number)).toBe(1.5);
  });

  it('refuses integers outside the safe range instead of rounding them', () => {
    expect(() => decodeMsgpack(fromHex('cf 0020000000000001'), t.number)).toThrow(/safe integer range/); // uint64 2^53+1
    expect(() => decodeMsgpack(encode('9007199254740993'), t.number)).toThrow(/safe integer range/); // integer text
    expect(() => encodeMsgpack(2 ** 60, t.number)).toThrow(/safe integer range/);
    expect(() => encodeMsgpack(Number.NaN, t.number)).toThrow(/not finite/);
  });

  it('reads the largest safe integer exactly', () => {
    expect(decodeMsgpack(fromHex('cf 001fffffffffffff'), t.number)).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('JSON codec (UpgradeResourceState raw_state)', () => {
  const ty = t.object({ id: t.string, n: t.number, tags: t.set(t.string) });

  it('fills missing attributes with null and drops ones the schema no longer has', () => {
    expect(decodeJson('{"id":"a","old":1}', ty)).toEqual({ id: 'a', n: null, tags: null });
  });

  it('can be strict about undefined attributes', () => {
    expect(() => decodeJson('{"id":"a","old":1}', ty, { ignoreUndefinedAttributes: false })).toThrow(/old: unsupported attribute/);
  });

  it('rejects malformed JSON and unknowns', () => {
    expect(() => decodeJson('{', ty)).toThrow(/invalid JSON/);
    expect(() => encodeJson({ id: UNKNOWN }, ty)).toThrow(/must be known/);
    expect(encodeJson({ id: 'a', tags: ['x'] }, ty)).toBe('{"id":"a","n":null,"tags":["x"]}');
  });
});

describe('cty equality', () => {
  it('compares sets without order and lists with order', () => {
    expect(ctyEqual(['a', 'b'], ['b', 'a'], t.set(t.string))).toBe(true);
    expect(ctyEqual(['a', 'b'], ['b', 'a'], t.list(t.string))).toBe(false);
    expect(ctyEqual(['a', 'a'], ['a', 'b'], t.set(t.string))).toBe(false);
  });

  it('never considers an unknown equal to anything', () => {
    expect(ctyEqual(UNKNOWN, UNKNOWN, t.string)).toBe(false);
    expect(ctyEqual({ a: null }, { a: null }, t.object({ a: t.string }))).toBe(true);
  });
});
