/**
 * The access model's rules, table by table: privileges before policies, RLS off, BYPASSRLS,
 * permissive OR / restrictive AND, the commands' USING and WITH CHECK, RETURNING, the tenant
 * insert block; predicates split and compared by syntax tree; the effect of a change on a cell.
 * End to end (against PostgreSQL) in test/e2e/access.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { computeTable, type PolicyInput, type TableInput } from '../../src/access/compute.js';
import { compareCells } from '../../src/access/delta.js';
import { combine, implies, operands, predicateText } from '../../src/access/predicate.js';
import { keyRole, scopeCommands } from '../../src/access/reach.js';
import { loadSqlParser } from '../../src/sql/parser.js';

beforeAll(async () => {
  await loadSqlParser();
});

const ALL = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

function policy(name: string, p: Partial<PolicyInput>): PolicyInput {
  return { name, address: `policy.default.public.t.${name}`, command: 'ALL', permissive: true, roles: ['authenticated'], using: null, with_check: null, ...p };
}

function table(p: Partial<TableInput>): TableInput {
  return { tenant: 'default', schema: 'public', name: 't', address: 'table.default.public.t', rls: true, forced: false, grants: { authenticated: ALL, anon: ['SELECT'] }, policies: [], ...p };
}

const cells = (t: TableInput, role = 'authenticated') => computeTable(t, [role]).access.roles[role]!;

describe('the access model', () => {
  it('checks privileges before policies, and writes need SELECT because the API returns the rows it writes', () => {
    const t = table({ grants: { authenticated: ['INSERT'] }, policies: [policy('p', { using: 'true' })] });
    expect(cells(t).SELECT).toEqual({ level: 'none', reason: 'no SELECT privilege' });
    expect(cells(t).INSERT).toEqual({ level: 'none', reason: 'no SELECT privilege (the API returns the rows it writes)' });
  });

  it('gives every row with RLS off, to BYPASSRLS roles and to the owner unless forced', () => {
    expect(cells(table({ rls: false })).DELETE).toEqual({ level: 'all', reason: 'RLS off' });
    expect(cells(table({ grants: { service_role: ALL } }), 'service_role').UPDATE).toEqual({ level: 'all', reason: 'bypasses RLS' });
    expect(cells(table({ owner: 'authenticated' })).SELECT).toEqual({ level: 'all', reason: 'table owner' });
    expect(cells(table({ owner: 'authenticated', forced: true })).SELECT).toEqual({ level: 'none', reason: 'no SELECT policy for authenticated' });
  });

  it('ORs permissive policies, ANDs restrictive ones, and needs a permissive one', () => {
    const t = table({
      policies: [
        policy('own', { command: 'SELECT', using: 'owner_id = auth.uid()' }),
        policy('published', { command: 'SELECT', roles: ['public'], using: 'published' }),
        policy('not_deleted', { command: 'SELECT', permissive: false, using: 'NOT deleted' }),
      ],
    });
    expect(cells(t).SELECT).toEqual({ level: 'rows', using: '(owner_id = auth.uid() OR published) AND NOT deleted' });
    const onlyRestrictive = table({ policies: [policy('r', { command: 'SELECT', permissive: false, using: 'true' })] });
    expect(cells(onlyRestrictive).SELECT).toEqual({ level: 'none', reason: 'the policies admit no row' });
  });

  it("applies WITH CHECK to new rows (USING when an ALL or UPDATE policy has none), and the SELECT policies to every written row", () => {
    const t = table({
      policies: [policy('read', { command: 'SELECT', using: 'true' }), policy('write', { using: 'owner_id = auth.uid()', with_check: "owner_id = auth.uid() AND status <> 'locked'" })],
    });
    expect(cells(t).INSERT).toEqual({ level: 'rows', check: "owner_id = auth.uid() AND status <> 'locked'" });
    expect(cells(t).UPDATE).toEqual({ level: 'rows', using: 'owner_id = auth.uid()', check: "owner_id = auth.uid() AND status <> 'locked'" });
    const noRead = table({ policies: [policy('w', { command: 'INSERT', with_check: 'true' })] });
    expect(cells(noRead).INSERT).toEqual({ level: 'none', reason: 'no SELECT policy for authenticated (the API returns the rows it writes)' });
  });

  it('refuses inserts into a table without tenant_id outside the default tenant, as the server does', () => {
    const t = table({ otherTenant: true, columns: ['id'], policies: [policy('p', { using: 'true' })] });
    expect(cells(t).INSERT.level).toBe('none');
    expect(cells(t).UPDATE.level).toBe('all');
    expect(cells({ ...t, columns: ['id', 'tenant_id'] }).INSERT.level).toBe('all');
  });
});

describe('predicates', () => {
  it('splits at top-level AND and OR with PostgreSQL’s scanner, leaving BETWEEN, quotes and parentheses alone', () => {
    expect(operands("a = 'x AND y' AND (b OR c) AND d BETWEEN 1 AND 5", 'AND')).toEqual(["a = 'x AND y'", 'b OR c', 'd BETWEEN 1 AND 5']);
    expect(operands('((owner_id = auth.uid()) OR (NOT archived))', 'OR')).toEqual(['owner_id = auth.uid()', 'NOT archived']);
    expect(operands('CASE WHEN a OR b THEN true END', 'OR')).toEqual(['CASE WHEN a OR b THEN true END']);
  });

  it("compares PostgreSQL's rendering with the declaration, and absorbs what is implied", () => {
    const declared = combine(["status = 'published'", 'owner_id = auth.uid() OR NOT archived'], []);
    const live = combine(['(owner_id = auth.uid())', "(status = 'published'::text)", '((owner_id = auth.uid()) OR (NOT archived))'], []);
    expect(implies(declared, live) && implies(live, declared)).toBe(true);
    expect(predicateText(live)).toBe("owner_id = auth.uid() OR status = 'published' OR NOT archived");
  });

  it('proves an added OR branch wider, an added AND narrower, and calls anything else a change', () => {
    const cell = (using: string) => ({ access: { level: 'rows' as const, using }, using: combine([using], []), check: combine(['true'], []) });
    expect(compareCells(cell('a = 1'), cell('a = 1 OR b = 2'))).toBe('widens');
    expect(compareCells(cell('a = 1'), cell('a = 1 AND b = 2'))).toBe('narrows');
    expect(compareCells(cell('a = 1'), cell('a = 2'))).toBe('changes');
    expect(compareCells(cell('(a = 1)'), cell('a = 1'))).toBeUndefined();
  });
});

describe('who reaches which role', () => {
  it('maps keys to the roles the server switches to, and scopes to commands', () => {
    expect(keyRole({ address: 'client_key.x', kind: 'client_key', name: 'x', scopes: [], active: true }, true)).toBe('anon');
    expect(keyRole({ address: 'service_key.d.x', kind: 'service_key', name: 'x', keyType: 'service', scopes: [], active: true }, true)).toBe('service_role');
    expect(keyRole({ address: 'service_key.a.x', kind: 'service_key', name: 'x', keyType: 'service', scopes: [], active: true }, false)).toBe('tenant_service');
    expect(keyRole({ address: 'service_key.d.x', kind: 'service_key', name: 'x', keyType: 'anon', scopes: [], active: true }, true)).toBe('anon');
    expect(scopeCommands(['tables:read'])).toEqual(['SELECT']);
    expect(scopeCommands(['tables:write'])).toEqual(['INSERT', 'UPDATE', 'DELETE']);
    expect(scopeCommands(['*'])).toEqual(ALL);
    expect(scopeCommands(['read', 'realtime:connect'])).toEqual([]);
  });
});
