/**
 * A live table as configuration (tableHandler.toSpec, for `fluxbase export`): the inverse of
 * desiredTable() in table-spec.ts. Columns keep their table order; types, defaults and check
 * expressions are written as a person would (sql/readable.ts, each rewrite verified to mean the
 * same); defaults are omitted (nullable, NO ACTION, all realtime events). Tables in Fluxbase's
 * internal schemas cannot be declared (the real server drops user tables there and resets its own
 * tables' policies at every start, F1): a user table there is reported as not exported with the
 * reason; Fluxbase's own tables are left out silently, or listed as not exported with
 * `includeInternal` (they are read, not declared).
 */
import { parseAddress } from '../model/address.js';
import { readableDefault, readableExpression, readableType } from '../sql/readable.js';
import { compact } from './common.js';
import { isFluxbaseTable } from './internal-tables.js';
import { INTERNAL_SCHEMAS } from '../sql/identifiers.js';
import { NOT_VALID_SUFFIX, type ColumnAttrs, type TableAttrs, type TableMeta } from './table-spec.js';
import type { SpecFragment, ToSpecRequest } from './types.js';

const ALL_EVENTS = ['DELETE', 'INSERT', 'UPDATE'];

/** `# PostgreSQL renders this as …` when the written text differs from the live rendering. */
export function renderedAs(path: string[], written: string, live: string): { path: string[]; text: string }[] {
  return written === live ? [] : [{ path, text: `PostgreSQL renders this as ${live}` }];
}

function columnSpec(schema: string, name: string, c: ColumnAttrs, notes: string[]): Record<string, unknown> {
  const d = readableDefault(c.default, c.type);
  if (!d.exact) notes.push(`column ${name}: default ${c.default} cannot be declared (it is not one SQL expression a default allows)`);
  const ref = c.references;
  return compact({
    type: readableType(c.type),
    primary_key: c.primary_key || undefined,
    nullable: !c.primary_key && !c.nullable ? false : undefined,
    default: d.value,
    unique: c.unique || undefined,
    references: ref
      ? compact({
          table: ref.table.startsWith(`${schema}.`) ? ref.table.slice(schema.length + 1) : ref.table,
          column: ref.column === 'id' ? undefined : ref.column,
          on_delete: ref.on_delete === 'NO ACTION' ? undefined : ref.on_delete,
          on_update: ref.on_update === 'NO ACTION' ? undefined : ref.on_update,
        })
      : undefined,
  });
}

/**
 * The grants worth declaring: those of the API's client roles (`anon`, `authenticated`), PUBLIC
 * and the roles the table's policies name, when they hold something. Grants the server gives by
 * itself (service_role on every DDL-created table, default privileges) and those of
 * administrative roles are left undeclared, hence unmanaged.
 */
function exportedGrants(grants: Record<string, string[]>, children: ToSpecRequest['children']): Record<string, string[]> {
  const roles = new Set(['anon', 'authenticated', 'public']);
  for (const c of children) if (c.kind === 'policy') for (const r of (c.attrs.roles as string[] | undefined) ?? []) roles.add(r);
  roles.delete('service_role');
  return Object.fromEntries(Object.entries(grants).filter(([role, list]) => roles.has(role) && list.length > 0).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** See module doc. */
export function tableToSpec({ live, children, includeInternal }: ToSpecRequest): SpecFragment | undefined {
  const [tenant, schema, name] = parseAddress(live.address)!.segments as [string, string, string];
  const own = isFluxbaseTable(schema, name);
  if (own && !includeInternal) return undefined;
  const path = ['tenants', tenant, 'schemas', schema, 'tables', name];
  if (INTERNAL_SCHEMAS.has(schema)) {
    return {
      path,
      notes: [
        own
          ? `Fluxbase's own table: the server re-creates it and its policies from its schema files at every start`
          : `in Fluxbase's internal schema ${schema}, where the server drops user tables at its next start (F1): move it to public or a schema of your own (e.g. ALTER TABLE ${schema}.${name} SET SCHEMA public), then export again`,
      ],
    };
  }
  const attrs = live.attrs as TableAttrs;
  const meta = (live.meta ?? {}) as Partial<TableMeta>;
  const spec: Record<string, unknown> = {};
  const comments: { path: string[]; text: string }[] = [];
  const notes = [...(meta.unsupported ?? [])];
  spec.columns = Object.fromEntries(Object.entries(attrs.columns ?? {}).map(([n, c]) => [n, columnSpec(schema, n, c, notes)]));
  const indexes = Object.entries(attrs.indexes ?? {});
  if (indexes.some(([, ix]) => ix.columns.includes('(expression)')) || (meta.unsupported ?? []).some((u) => u.startsWith('index '))) {
    if (indexes.length > 0) notes.push('indexes are not declared: the configuration cannot express a partial or expression index, and declaring the others would drop it');
  } else if (indexes.length > 0) {
    spec.indexes = Object.fromEntries(indexes.map(([n, ix]) => [n, compact({ columns: ix.columns, unique: ix.unique || undefined })]));
  }
  // A check PostgreSQL has not validated is declared as the check it is meant to be (the plan validates it).
  const checks = Object.entries(attrs.checks ?? {}).map(([n, e]) => [n, e.endsWith(NOT_VALID_SUFFIX) ? e.slice(0, -NOT_VALID_SUFFIX.length) : e] as const);
  if (checks.length > 0) {
    spec.checks = Object.fromEntries(checks.map(([n, e]) => [n, readableExpression(e)]));
    for (const [n, e] of checks) comments.push(...renderedAs(['checks', n], readableExpression(e), e));
  }
  const hasPolicies = children.some((c) => c.kind === 'policy');
  if (attrs.rls_enabled || hasPolicies) spec.rls = { enabled: attrs.rls_enabled ?? false };
  const grants = exportedGrants(attrs.grants ?? {}, children);
  if (!own && Object.keys(grants).length > 0) spec.grants = grants;
  const rt = attrs.realtime;
  if (rt?.enabled) {
    const events = rt.events ?? ALL_EVENTS;
    const all = events.length === ALL_EVENTS.length && ALL_EVENTS.every((e) => events.includes(e));
    const exclude = rt.exclude ?? [];
    spec.realtime = all && exclude.length === 0 ? { enabled: true } : compact({ events: all ? undefined : events, exclude: exclude.length > 0 ? exclude : undefined });
  }
  return { path, spec, comments, notes };
}
