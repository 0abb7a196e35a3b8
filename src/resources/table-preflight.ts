/**
 * tableHandler.preflight — what a table plan checks against the tenant's database before any
 * change, with at most one read (POST /api/v1/admin/sql/execute), and only when a change needs it:
 *
 * - The column types the plan creates or changes exist. Built-in types are known without asking
 *   (sql/types.ts BUILTIN_TYPES, checked against PostgreSQL 18); any other type (an extension's such
 *   as citext or vector, an enum, a domain) is looked up. A missing one is a located error with a
 *   "did you mean", instead of PostgreSQL refusing it half-way through the apply.
 * - A NOT NULL column without a default is added only to a table without data: PostgreSQL cannot
 *   fill existing rows, and the server answers a bare 500 ("Failed to add column"). "Data" is a
 *   non-empty table file (pg_relation_size > 0): rows, or rows deleted but not yet truncated.
 */
import { closest, error, warning, type Diagnostic } from '../diag/index.js';
import { isBuiltinType, parseType, TYPE_SUGGESTIONS } from '../sql/types.js';
import { readPreflight } from './table-catalog.js';
import type { ColumnAttrs, TableAttrs } from './table-spec.js';
import { sourceAt } from './common.js';
import type { PreflightRequest } from './types.js';
import type { DesiredResource, TenantRef } from '../model/resource.js';
import type { ResourceChange } from '../model/plan.js';
import type { FluxbaseClient } from '../client/http.js';

/** A declared column the preflight looks at. */
interface ColumnUse {
  desired: DesiredResource;
  column: string;
  attrs: ColumnAttrs;
}

/** See module doc: one read per tenant that needs one. */
export async function tablePreflight({ client, changes, desired, tenants }: PreflightRequest): Promise<Diagnostic[]> {
  const bySlug = new Map<string, ResourceChange[]>();
  for (const change of changes) {
    const slug = change.address.split('.')[1]!;
    bySlug.set(slug, [...(bySlug.get(slug) ?? []), change]);
  }
  const out: Diagnostic[] = [];
  for (const [slug, list] of bySlug) {
    // A tenant this plan creates gets its database from the server's bootstrap, like the default tenant's.
    const tenant = tenants.get(slug) ?? [...tenants.values()].find((t) => t.isDefault);
    if (tenant) out.push(...(await tenantPreflight(client, tenant, list, desired)));
  }
  return out;
}

async function tenantPreflight(client: FluxbaseClient, tenant: TenantRef, changes: readonly ResourceChange[], desired: PreflightRequest['desired']): Promise<Diagnostic[]> {
  const types: ColumnUse[] = [];
  const notNull: ColumnUse[] = [];
  for (const change of changes) {
    const d = desired.get(change.address);
    const columns = (d?.attrs as TableAttrs | undefined)?.columns;
    if (!d || !columns || d.external) continue;
    const added = new Set(change.attributes.filter((a) => a.path[0] === 'columns' && a.path.length === 2 && a.before === undefined).map((a) => a.path[1]!));
    const retyped = new Set(change.attributes.filter((a) => a.path[0] === 'columns' && a.path[2] === 'type').map((a) => a.path[1]!));
    for (const [column, attrs] of Object.entries(columns)) {
      const use = { desired: d, column, attrs };
      if ((change.action !== 'update' || added.has(column) || retyped.has(column)) && !isBuiltinType(attrs.type)) types.push(use);
      if (change.action === 'update' && added.has(column) && !attrs.nullable && attrs.default === null) notNull.push(use);
    }
  }
  if (types.length === 0 && notNull.length === 0) return [];
  const tableOf = (d: DesiredResource) => d.address.split('.').slice(2).join('.');
  const facts = await readPreflight(client, tenant.id, { types: types.length > 0, tables: [...new Set(notNull.map((u) => tableOf(u.desired)))] });
  const out: Diagnostic[] = [];
  const names = new Set((facts.types ?? []).map((t) => t.name));
  const qualified = new Set((facts.types ?? []).map((t) => `${t.schema}.${t.name}`));
  for (const u of types) {
    const t = parseType(u.attrs.type);
    if (!t || (t.schema ? qualified.has(`${t.schema}.${t.name}`) : names.has(t.name))) continue;
    const guess = closest(t.name, [...TYPE_SUGGESTIONS, ...names], 1);
    out.push(
      error('plan.reference', `column ${u.column} has type '${u.attrs.type}', which the database of tenant ${tenant.slug} does not have${guess ? ` (did you mean '${guess}'?)` : ''}`, {
        ...at(u, 'type'),
        detail: "It is neither a built-in PostgreSQL type nor one the database defines (an extension's type needs the extension installed). Correct the type, or create it first.",
      }),
    );
  }
  for (const u of notNull) {
    const where = tableOf(u.desired);
    const hasData = facts.hasData?.[where];
    if (hasData === false) continue;
    const fix = "Give it a default (e.g. `default: \"''\"` or `default: 0`), or add it nullable, fill it, then set `nullable: false`.";
    out.push(
      hasData === true
        ? error('plan.data', `column ${u.column} is added NOT NULL without a default, but ${where} has data`, {
            ...at(u, 'key'),
            detail: `PostgreSQL cannot fill the existing rows, so the server would refuse it (500 "Failed to add column"). ${fix}`,
          })
        : warning('plan.data', `column ${u.column} is added NOT NULL without a default, and whether ${where} has data could not be read (it is locked)`, {
            ...at(u, 'key'),
            detail: `If it has rows, the server refuses the change. ${fix}`,
          }),
    );
  }
  return out;
}

/** Address, location and config path of a column's field. */
function at(u: ColumnUse, field: 'key' | 'type') {
  return {
    address: u.desired.address,
    location: sourceAt(u.desired, ...(field === 'type' ? [`columns.${u.column}.type`] : []), `columns.${u.column}`),
    path: [...u.desired.path, 'columns', u.column, ...(field === 'key' ? [] : [field])],
  };
}
