import { describe, expect, it } from 'vitest';
import { bindBody, bindStruct, BindError } from '../../src/emulator/http/bind.js';
import { goJson, goTimeString, rfc3339 } from '../../src/emulator/http/json.js';
import { identifierProblem, quoteIdentifier, sanitizeDefaultValue } from '../../src/emulator/ddl/validation.js';
import { isValidSlug } from '../../src/emulator/tenancy/tenants.js';
import { naiveSplit, splitStatements } from '../../src/emulator/sql/split.js';
import { parseArrayLiteral, renderValue } from '../../src/emulator/sql/values.js';

describe('emulator rules without a server', () => {
  it.each([
    ['gen_random_uuid()', 'gen_random_uuid()'],
    ['now()', 'now()'],
    ['CURRENT_TIMESTAMP', 'CURRENT_TIMESTAMP'],
    ['Current_Timestamp', "'Current_Timestamp'"],
    ['Now()', "'Now()'"],
    ['  42  ', '42'],
    ['-1.5e3', '-1.5e3'],
    ['now()::date', 'now()::date'],
    ["'2024-01-01'::date", "'2024-01-01'::date"],
    ["'x'::text; drop table t", "'''x''::text; drop table t'"],
    ['hello', "'hello'"],
    ["it's", "'it''s'"],
    ['a\\b', "'a\\\\b'"],
    ['{}', "'{}'"],
    ['NULL', 'NULL'],
  ])('sanitises the default %j to %s', (input, output) => {
    expect(sanitizeDefaultValue(input)).toBe(output);
  });

  it('validates identifiers in the server order and quotes invalid ones to the empty string', () => {
    expect(identifierProblem('', 'column')).toBe('column name cannot be empty');
    expect(identifierProblem('ÿ', 'table')).toBe('table name must start with a letter or underscore and contain only letters, numbers, and underscores');
    expect(identifierProblem('Where', 'table')).toBe("'Where' is a reserved keyword and cannot be used as a table name");
    expect(identifierProblem('users', 'table')).toBeUndefined();
    expect(quoteIdentifier('ok_1')).toBe('"ok_1"');
    expect(quoteIdentifier('bad name')).toBe('');
  });

  it('applies the tenant slug rule', () => {
    expect(['a', 'acme', 'a-1', 'a1b2'].every(isValidSlug)).toBe(true);
    expect(['', '1a', 'a-', 'A', 'a_b', 'a'.repeat(64)].some(isValidSlug)).toBe(false);
  });

  it('binds JSON like Go encoding/json', () => {
    const spec = { newName: 'string', nullable: 'bool', roles: '[]string', using: '*string' } as const;
    expect(bindStruct({ NEWNAME: 'x', extra: 1 }, spec)).toEqual({ newName: 'x', nullable: false, roles: null, using: null });
    expect(bindStruct({ nullable: null, using: null }, spec)).toMatchObject({ nullable: false, using: null });
    expect(bindStruct(null, spec)).toEqual({ newName: '', nullable: false, roles: null, using: null });
    expect(() => bindStruct({ nullable: 'yes' }, spec)).toThrow(BindError);
    expect(() => bindStruct({ newName: 5 }, spec)).toThrow(BindError);
    expect(() => bindStruct([], spec)).toThrow(BindError);
    expect(() => bindBody('text/plain', Buffer.from('{}'), spec)).toThrow(BindError);
    expect(() => bindBody('application/json', Buffer.from(''), spec)).toThrow(BindError);
    expect(bindBody('application/json; charset=utf-8', Buffer.from('{"newName":"y"}'), spec).newName).toBe('y');
  });

  it('renders like Go: HTML-safe escaping and time formats', () => {
    expect(goJson({ s: '<a href="x">&</a>' })).toBe('{"s":"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"}');
    expect(rfc3339('2026-03-07 10:00:00.120000+00')).toBe('2026-03-07T10:00:00.12Z');
    expect(rfc3339('2026-03-07 12:00:00+02')).toBe('2026-03-07T10:00:00Z');
    expect(goTimeString('2026-03-07 10:00:00.5+00')).toBe('2026-03-07 10:00:00.5 +0000 UTC');
  });

  it('renders SQL values and arrays', () => {
    expect(parseArrayLiteral('{a,"b c",NULL,"q\\"x"}')).toEqual(['a', 'b c', null, 'q"x']);
    expect(renderValue('{1,2}', 1007)).toEqual([1, 2]);
    expect(renderValue('\\x000102030405060708090a0b0c0d0e0f', 17)).toBe('00010203-0405-0607-0809-0a0b0c0d0e0f');
    expect(renderValue('\\x4142', 17)).toBe('QUI=');
  });

  it('splits statements with the PostgreSQL parser, falling back to a naive split', async () => {
    expect(await splitStatements("select 'a;b'; select 2;")).toEqual(["select 'a;b'", 'select 2']);
    expect(await splitStatements('-- only a comment')).toEqual([]);
    expect(await splitStatements("select 'é'; select 'ü'")).toEqual(["select 'é'", "select 'ü'"]);
    expect(await splitStatements('selec 1; select 2')).toEqual(['selec 1', 'select 2']);
    expect(naiveSplit(' a ;; b ')).toEqual(['a', 'b']);
  });
});
