import { beforeAll, describe, expect, it } from 'vitest';
import { loadSqlParser } from '../../src/sql/parser.js';
import { expressionsEqual } from '../../src/sql/expression.js';
import { canonicalType, ddlAcceptsType } from '../../src/sql/types.js';
import { sanitizeDefault } from '../../src/sql/defaults.js';
import { constraintName } from '../../src/sql/ddl.js';
import { formatAddress, parseAddress } from '../../src/model/address.js';

beforeAll(() => loadSqlParser());

describe('policy and default expressions compare as PostgreSQL renders them', () => {
  it.each([
    ['id = auth.uid()', '(id = auth.uid())'],
    ['published AND user_id IS NOT NULL', '(published AND (user_id IS NOT NULL))'],
    ["status = 'published'", "(status = 'published'::text)"],
    ["'hello'", "'hello'::text"],
    ['-1', "'-1'::integer"],
    ['1.50', '1.5'],
    ["status IN ('draft', 'published')", "(status = ANY (ARRAY['draft'::text, 'published'::text]))"],
    ['current_timestamp', 'CURRENT_TIMESTAMP'],
    ["'{}'", "'{}'::jsonb"],
    ['now()::date', '(now())::date'],
    ['priority BETWEEN 1 AND 5', '((priority >= 1) AND (priority <= 5))'],
  ])('%s equals %s', (declared, rendered) => {
    expect(expressionsEqual(declared, rendered)).toBe(true);
  });

  it.each([
    ['a = 1', '(a = 2)'],
    ["status = 'draft'", "(status = 'published'::text)"],
    ['id = auth.uid()', '(owner_id = auth.uid())'],
    ['now()', 'CURRENT_TIMESTAMP'],
  ])('%s differs from %s', (a, b) => {
    expect(expressionsEqual(a, b)).toBe(false);
  });
});

describe('types compare by canonical spelling', () => {
  it.each([
    ['timestamptz', 'timestamp with time zone'],
    ['timestamp', 'timestamp without time zone'],
    ['varchar', 'character varying'],
    ['varchar(255)', 'character varying(255)'],
    ['char', 'character(1)'],
    ['int', 'integer'],
    ['bool', 'boolean'],
    ['decimal', 'numeric'],
    ['numeric(10,2)', 'numeric(10,2)'],
    ['text[]', 'text[]'],
    ['double precision', 'double precision'],
    ['timetz', 'time with time zone'],
    ['citext', 'citext'],
  ])('%s is %s', (declared, canonical) => {
    expect(canonicalType(declared)).toBe(canonical);
  });

  it('rejects text that is not exactly one type', () => {
    expect(canonicalType('int; drop table x')).toBeUndefined();
    expect(canonicalType('not a type')).toBeUndefined();
  });

  it('knows the DDL endpoint allow-list', () => {
    expect(ddlAcceptsType('TimestampTZ')).toBe(true);
    expect(ddlAcceptsType('varchar(255)')).toBe(false);
    expect(ddlAcceptsType('int')).toBe(false);
  });
});

describe('column defaults mean what the server DDL endpoint makes of them', () => {
  it.each([
    ['draft', "'draft'"],
    ['gen_random_uuid()', 'gen_random_uuid()'],
    ['now()', 'now()'],
    ['Now()', "'Now()'"],
    ['0', '0'],
    ['-1', '-1'],
    ['1.5', '1.5'],
    ['1e5', '1e5'],
    ['true', 'true'],
    ['FALSE', 'FALSE'],
    ['{}', "'{}'"],
    ["'{}'::jsonb", "'{}'::jsonb"],
    ['now()::date', 'now()::date'],
    ["it's", "'it''s'"],
    ['a\\b', "'a\\\\b'"],
    ["x'::text; drop table t; --", "'x''::text; drop table t; --'"],
  ])('%s → %s', (input, sql) => {
    expect(sanitizeDefault(input)).toBe(sql);
  });

  it('treats an empty default as none', () => {
    expect(sanitizeDefault('  ')).toBeUndefined();
  });
});

describe('names and addresses', () => {
  it('shortens implicit constraint names like PostgreSQL', () => {
    expect(constraintName('users', 'email', 'key')).toBe('users_email_key');
    const long = constraintName('a'.repeat(40), 'b'.repeat(40), 'fkey');
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(63);
    expect(long.endsWith('_fkey')).toBe(true);
  });

  it('formats and parses addresses with quoted segments', () => {
    const address = formatAddress('system_setting', ['app.auth.signup_enabled']);
    expect(address).toBe('system_setting["app.auth.signup_enabled"]');
    expect(parseAddress(address)).toEqual({ kind: 'system_setting', segments: ['app.auth.signup_enabled'] });
    expect(parseAddress('webhook.acme.user-signups')).toEqual({ kind: 'webhook', segments: ['acme', 'user-signups'] });
    expect(parseAddress('webhook..x')).toBeUndefined();
  });
});
