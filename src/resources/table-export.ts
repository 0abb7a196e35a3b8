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
import type { ColumnAttrs, TableAttrs, TableMeta } from './table-spec.js';
import type { SpecFragment, ToSpecRequest } from './types.js';

const ALL_EVENTS = ['DELETE', 'INSERT', 'UPDATE'];

/** `# PostgreSQL renders this as …` when the written text differs from the live rendering. */
export function renderedAs(path: string[], written: string, live: string): { path: string[]; text: string }[] {
  return written === live ? [] : [{ path, text: `PostgreSQL renders this as ${live}` }];
}

function columnSpec(schema: string, name: string, c: ColumnAttrs, notes: string[]): Record<string, unknown> {
  const d = readableDefault(c.default, c.type);
  if (!d.exact) notes.push(`column ${name}: default ${c.default} cannot be declared (the server's default sanitiser would store it as a string literal)`);
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
  const checks = Object.entries(attrs.checks ?? {});
  if (checks.length > 0) {
    spec.checks = Object.fromEntries(checks.map(([n, e]) => [n, readableExpression(e)]));
    for (const [n, e] of checks) comments.push(...renderedAs(['checks', n], readableExpression(e), e));
  }
  const hasPolicies = children.some((c) => c.kind === 'policy');
  if (attrs.rls_enabled || hasPolicies) spec.rls = { enabled: attrs.rls_enabled ?? false };
  const rt = attrs.realtime;
  if (rt?.enabled) {
    const events = rt.events ?? ALL_EVENTS;
    const all = events.length === ALL_EVENTS.length && ALL_EVENTS.every((e) => events.includes(e));
    const exclude = rt.exclude ?? [];
    spec.realtime = all && exclude.length === 0 ? { enabled: true } : compact({ events: all ? undefined : events, exclude: exclude.length > 0 ? exclude : undefined });
  }
  return { path, spec, comments, notes };
}
