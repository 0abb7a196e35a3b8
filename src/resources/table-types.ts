/**
 * tableHandler.preflight: the column types a plan creates or changes exist in the tenant's
 * database. Built-in types are known without asking (sql/types.ts BUILTIN_TYPES, checked against
 * PostgreSQL 18); any other type (an extension's such as citext or vector, an enum, a domain) is
 * looked up with one catalog read, and only when the plan declares one. A type the database does
 * not have is a located error with a "did you mean", before any change: PostgreSQL would otherwise
 * refuse it half-way through the apply (after RLS or other tables were already changed).
 */
import { closest, error, type Diagnostic } from '../diag/index.js';
import { isBuiltinType, parseType, TYPE_SUGGESTIONS } from '../sql/types.js';
import { readTypes } from './table-catalog.js';
import type { ColumnAttrs, TableAttrs, TableDesiredMeta } from './table-spec.js';
import type { PreflightRequest } from './types.js';

/** A declared column type the plan uses. */
interface UsedType {
  address: string;
  path: string[];
  column: string;
  type: string;
  meta: Partial<TableDesiredMeta>;
}

/** See module doc. */
export async function checkTableTypes({ client, tenant, changes, desired }: PreflightRequest): Promise<Diagnostic[]> {
  const used: UsedType[] = [];
  for (const change of changes) {
    const d = desired.get(change.address);
    const columns = (d?.attrs as TableAttrs | undefined)?.columns;
    if (!d || !columns || d.external) continue;
    const touched =
      change.action === 'update'
        ? new Set(change.attributes.filter((a) => a.path[0] === 'columns' && (a.path.length === 2 || a.path[2] === 'type')).map((a) => a.path[1]!))
        : new Set(Object.keys(columns));
    for (const [column, c] of Object.entries(columns) as [string, ColumnAttrs][]) {
      if (touched.has(column) && !isBuiltinType(c.type)) used.push({ address: d.address, path: d.path, column, type: c.type, meta: (d.meta ?? {}) as Partial<TableDesiredMeta> });
    }
  }
  if (used.length === 0) return [];
  const available = await readTypes(client, tenant.id);
  const names = new Set(available.map((t) => t.name));
  const qualified = new Set(available.map((t) => `${t.schema}.${t.name}`));
  const out: Diagnostic[] = [];
  for (const u of used) {
    const t = parseType(u.type);
    if (!t || (t.schema ? qualified.has(`${t.schema}.${t.name}`) : names.has(t.name))) continue;
    const guess = closest(t.name, [...TYPE_SUGGESTIONS, ...names]);
    out.push(
      error('plan.reference', `column ${u.column} has type '${u.type}', which the database of tenant ${tenant.slug} does not have${guess ? ` (did you mean '${guess}'?)` : ''}`, {
        address: u.address,
        location: u.meta.columnSources?.[u.column]?.type,
        path: [...u.path, 'columns', u.column, 'type'],
        detail: 'It is neither a built-in PostgreSQL type nor one the database defines (an extension\'s type needs the extension installed). Correct the type, or create it first.',
      }),
    );
  }
  return out;
}
