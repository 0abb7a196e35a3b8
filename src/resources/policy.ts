/**
 * Row-level security policies (shared/fluxbase-api auth-tenants §6). Created with
 * POST /api/v1/admin/policies (the tool always sends `permissive`, whose API default is
 * RESTRICTIVE); roles, USING and WITH CHECK change in place with
 * PUT /api/v1/admin/policies/{schema}/{table}/{name} (ALTER POLICY); the command, the
 * permissiveness and removing an expression cannot be changed in place, so they force a
 * replacement (DROP + CREATE). Expressions come back deparsed by PostgreSQL and are compared
 * by syntax tree.
 */
import { formatAddress } from '../model/address.js';
import type { Hazard, ResourceChange } from '../model/plan.js';
import type { DesiredResource, LiveResource } from '../model/resource.js';
import { compact, hazard, preventDestroy, sourceOf } from './common.js';
import { tableAddress } from './table.js';
import { isInternalSchema } from './schema.js';
import { isFluxbaseTable } from './internal-tables.js';
import { renderedAs } from './table-export.js';
import { readableExpression } from '../sql/readable.js';
import { tenantAddress } from './tenant.js';
import type { ApplyRequest, ApplyResult, DesiredRequest, ListRequest, PlanRequest, PlanResult, ReferencesRequest, ResourceHandler, SpecFragment, ToSpecRequest } from './types.js';
import { error, type Diagnostic } from '../diag/index.js';
import { expressionFacts, unknownColumns } from '../sql/expression.js';

/** Policy JSON of GET /api/v1/admin/policies. */
export interface PolicyJson {
  schema: string;
  table: string;
  policy_name: string;
  permissive: 'PERMISSIVE' | 'RESTRICTIVE';
  roles: string[] | null;
  command: string;
  using: string | null;
  with_check: string | null;
}

/** `policy.<tenant>.<schema>.<table>.<name>` */
export function policyAddress(tenant: string, schema: string, table: string, name: string): string {
  return formatAddress('policy', [tenant, schema, table, name]);
}

/** Roles as a sorted list; empty means PUBLIC, which PostgreSQL reports as ["public"]. */
export function canonicalRoles(roles: readonly string[] | null | undefined): string[] {
  const list = [...new Set(roles ?? [])].sort();
  return list.length === 0 ? ['public'] : list;
}

/** Roles everyone holds: a policy for them applies to visitors who never signed in. */
const OPEN_ROLES = ['anon', 'public'];

/**
 * WEAKENS_SECURITY (the security floor, security-floor.ts): a policy on an existing table that
 * starts letting anon or PUBLIC in — a permissive one created for them, or one whose roles gain
 * them — or a restrictive one that stops holding them back.
 */
function openingHazards(change: ResourceChange, name: string, where: string, newTable: boolean): Hazard[] {
  if (newTable) return [];
  const before = change.before as { permissive?: boolean; roles?: string[] } | null;
  const after = change.after as { permissive?: boolean; roles?: string[] } | null;
  const open = (roles: string[] | undefined) => OPEN_ROLES.filter((r) => roles?.includes(r));
  const gained = open(after?.roles).filter((r) => !(before?.permissive && open(before?.roles).includes(r)));
  if (after?.permissive && change.action !== 'delete' && gained.length > 0) {
    return [hazard('WEAKENS_SECURITY', `Policy ${name} on ${where} lets ${gained.join(' and ')} reach rows: visitors who never signed in get access.`)];
  }
  const held = before && !before.permissive ? open(before.roles) : [];
  const released = held.length > 0 && (change.action === 'delete' || after?.permissive === true || open(after?.roles).length < held.length);
  if (released) return [hazard('WEAKENS_SECURITY', `Restrictive policy ${name} on ${where} stops holding back ${held.join(' and ')}.`)];
  return [];
}

function parts(address: string): { schema: string; table: string; name: string } {
  const p = address.split('.');
  return { schema: p[2]!, table: p[3]!, name: p.slice(4).join('.') };
}

export const policyHandler: ResourceHandler = {
  kind: 'policy',
  scope: 'tenant',
  rules: [
    { path: 'command', replace: true },
    { path: 'permissive', replace: true },
    { path: 'roles', compare: 'set' },
    { path: 'using', compare: 'sql' },
    { path: 'with_check', compare: 'sql' },
  ],

  desired({ config, sources, preventDestroyDefault }: DesiredRequest): DesiredResource[] {
    const out: DesiredResource[] = [];
    for (const [slug, tenant] of Object.entries(config.tenants ?? {})) {
      for (const [schema, s] of Object.entries(tenant?.schemas ?? {})) {
        for (const [table, t] of Object.entries(s?.tables ?? {})) {
          for (const [name, p] of Object.entries(t?.rls?.policies ?? {})) {
            const path = ['tenants', slug, 'schemas', schema, 'tables', table, 'rls', 'policies', name];
            out.push({
              address: policyAddress(slug, schema, table, name),
              kind: 'policy',
              tenant: slug,
              attrs: {
                command: p!.command ?? 'ALL',
                permissive: p!.permissive ?? true,
                roles: canonicalRoles(p!.roles),
                using: p!.using?.trim() ?? null,
                with_check: p!.with_check?.trim() ?? null,
              },
              writeOnly: {},
              dependsOn: [tenantAddress(slug), tableAddress(slug, schema, table)],
              preventDestroy: preventDestroy(p!.lifecycle, preventDestroyDefault),
              source: sourceOf(sources, path),
              path,
            });
          }
        }
      }
    }
    return out;
  },

  /**
   * A policy on an external table (its columns are not declared, so validation could not check
   * them) names only columns the live table has.
   */
  references({ desired, after }: ReferencesRequest): Diagnostic[] {
    const { schema, table } = parts(desired.address);
    const target = after(tableAddress(desired.tenant!, schema, table));
    if (!target?.declared?.external || !target.live) return [];
    const columns = new Set(Object.keys((target.live.attrs.columns ?? {}) as Record<string, unknown>));
    const out: Diagnostic[] = [];
    for (const field of ['using', 'with_check'] as const) {
      const sql = desired.attrs[field] as string | null;
      for (const column of sql ? unknownColumns(expressionFacts(sql)?.columns ?? [], columns, table) : []) {
        out.push(
          error('plan.reference', `${field} of policy ${parts(desired.address).name} refers to column ${column}, which ${schema}.${table} does not have`, {
            location: desired.source,
            path: [...desired.path, field],
            detail: `Columns of ${schema}.${table}: ${[...columns].join(', ')}.`,
          }),
        );
      }
    }
    return out;
  },

  /** GET /api/v1/admin/policies (bare array over every schema; the `table` query is ignored by the server). */
  async list({ client, tenant }: ListRequest): Promise<LiveResource[]> {
    const res = await client.request<PolicyJson[] | null>({ method: 'GET', route: '/api/v1/admin/policies', tenantId: tenant!.id });
    return (res.body ?? []).map((p) => {
      const attrs = {
        command: p.command,
        permissive: p.permissive === 'PERMISSIVE',
        roles: canonicalRoles(p.roles),
        using: p.using,
        with_check: p.with_check,
      };
      return {
        address: policyAddress(tenant!.slug, p.schema, p.table, p.policy_name),
        kind: 'policy' as const,
        tenant: tenant!.slug,
        id: `${p.schema}.${p.table}.${p.policy_name}`,
        attrs,
        parent: tableAddress(tenant!.slug, p.schema, p.table),
        hidden: isInternalSchema(p.schema),
      };
    });
  },

  /**
   * Command ALL, PERMISSIVE and PUBLIC are omitted; expressions are written without the
   * parentheses and casts PostgreSQL adds, with a comment giving its rendering. Policies on
   * Fluxbase's own tables are left out unless `includeInternal`.
   */
  toSpec({ live, includeInternal }: ToSpecRequest): SpecFragment | undefined {
    const tenant = live.address.split('.')[1]!;
    const { schema, table, name } = parts(live.address);
    if (isFluxbaseTable(schema, table) && !includeInternal) return undefined;
    const a = live.attrs as { command: string; permissive: boolean; roles: string[]; using: string | null; with_check: string | null };
    const comments: { path: string[]; text: string }[] = [];
    const expression = (field: 'using' | 'with_check') => {
      const text = a[field];
      if (text === null) return undefined;
      const written = readableExpression(text);
      comments.push(...renderedAs([field], written, text));
      return written;
    };
    const spec = compact({
      command: a.command === 'ALL' ? undefined : a.command,
      permissive: a.permissive ? undefined : false,
      roles: a.roles.length === 1 && a.roles[0] === 'public' ? undefined : a.roles,
      using: expression('using'),
      with_check: expression('with_check'),
    });
    return { path: ['tenants', tenant, 'schemas', schema, 'tables', table, 'rls', 'policies', name], spec, comments };
  },

  plan({ change, creating }: PlanRequest): PlanResult {
    const { name, schema, table } = parts(change.address);
    const newTable = creating.has(tableAddress(change.address.split('.')[1]!, schema, table));
    const where = `${schema}.${table}`;
    const hazards: Hazard[] = [];
    const after = change.after as { permissive?: boolean } | null;
    const before = change.before as { permissive?: boolean; roles?: string[] } | null;
    if (change.action === 'delete' || change.action === 'replace') {
      hazards.push(hazard('AUTHZ_CHANGE', `Removes policy ${name} on ${where}: rows it granted or restricted are governed by the remaining policies.`));
    }
    if ((change.action === 'create' || change.action === 'replace') && after?.permissive && !newTable) {
      hazards.push(hazard('AUTHZ_CHANGE', `Adds permissive policy ${name} on ${where}: the rows it matches become visible to its roles.`));
    }
    if (change.action === 'update') {
      const widened = change.attributes.some((a) => {
        if (a.path[0] === 'using' || a.path[0] === 'with_check') return true;
        if (a.path[0] !== 'roles') return false;
        const b = new Set((a.before as string[] | undefined) ?? []);
        const n = new Set((a.after as string[] | undefined) ?? []);
        return before?.permissive ? [...n].some((r) => !b.has(r)) || n.has('public') : [...b].some((r) => !n.has(r));
      });
      if (widened) hazards.push(hazard('AUTHZ_CHANGE', `Changes which rows policy ${name} on ${where} lets its roles reach; access may widen.`));
    }
    hazards.push(...openingHazards(change, name, where, newTable));
    // Removing an expression cannot be expressed with ALTER POLICY: replace.
    const removed = change.attributes.filter((a) => (a.path[0] === 'using' || a.path[0] === 'with_check') && a.after === null && a.before !== null);
    return { hazards, ...(change.action === 'update' && removed.length > 0 ? { requiresReplace: removed.map((a) => a.path) } : {}) };
  },

  /** POST /api/v1/admin/policies → 201. PostgreSQL errors come back as 400 with the raw text. */
  async create({ client, change, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const { schema, table, name } = parts(change.address);
    const a = desired!.attrs as { command: string; permissive: boolean; roles: string[]; using: string | null; with_check: string | null };
    await client.request({
      method: 'POST',
      route: '/api/v1/admin/policies',
      tenantId: tenant!.id,
      body: compact({
        schema,
        table,
        name,
        command: a.command,
        permissive: a.permissive,
        roles: a.roles.length === 1 && a.roles[0] === 'public' ? [] : a.roles,
        using: a.using ?? undefined,
        with_check: a.with_check ?? undefined,
      }),
      expect: [201],
    });
    return { id: `${schema}.${table}.${name}` };
  },

  /** PUT /api/v1/admin/policies/:schema/:table/:policy with the changed fields (ALTER POLICY). */
  async update({ client, change, desired, tenant }: ApplyRequest): Promise<ApplyResult> {
    const { schema, table, name } = parts(change.address);
    const a = desired!.attrs as { roles: string[]; using: string | null; with_check: string | null };
    const changed = new Set(change.attributes.map((x) => x.path[0]));
    await client.request({
      method: 'PUT',
      route: '/api/v1/admin/policies/:schema/:table/:policy',
      params: { schema, table, policy: name },
      tenantId: tenant!.id,
      body: compact({
        roles: changed.has('roles') ? a.roles : undefined,
        using: changed.has('using') ? a.using ?? undefined : undefined,
        with_check: changed.has('with_check') ? a.with_check ?? undefined : undefined,
      }),
      expect: [200],
    });
    return { id: change.id };
  },

  /** DELETE /api/v1/admin/policies/:schema/:table/:policy → 200 (a missing policy is a 400 with PG text). */
  async delete({ client, change, tenant }: ApplyRequest): Promise<void> {
    const { schema, table, name } = parts(change.address);
    await client.request({
      method: 'DELETE',
      route: '/api/v1/admin/policies/:schema/:table/:policy',
      params: { schema, table, policy: name },
      tenantId: tenant!.id,
      expect: [200],
    });
  },
};
