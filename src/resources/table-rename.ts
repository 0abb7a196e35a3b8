/**
 * Column renames declared with `renamed_from:` (tableHandler.renameInside): the live table as it
 * will read once `ALTER TABLE … RENAME COLUMN` has run, so the diff compares each column with its
 * own past instead of planning a drop (losing its values) and an add. PostgreSQL follows a column
 * rename everywhere it stores the column by number — indexes, constraints, check and policy
 * expressions, realtime exclusions — so those are renamed here too, and an unchanged index or
 * policy stays unchanged in the plan.
 */
import { error, type Diagnostic } from '../diag/index.js';
import type { AttributeChange } from '../model/plan.js';
import type { LiveResource } from '../model/resource.js';
import { renameColumnReferences } from '../sql/expression.js';
import type { TableAttrs, TableDesiredMeta, TableMeta } from './table-spec.js';
import type { RenameInsideRequest, RenameInsideResult } from './types.js';
import { sourceAt } from './common.js';

/** See module doc. Undefined when the table declares no column rename that is still to be made. */
export function renameTableColumns({ desired, live, children }: RenameInsideRequest): RenameInsideResult | undefined {
  const meta = (desired.meta ?? {}) as Partial<TableDesiredMeta>;
  const declared = Object.entries(meta.columnRenames ?? {});
  if (declared.length === 0) return undefined;
  const attrs = structuredClone(live.attrs) as TableAttrs;
  const columns = attrs.columns ?? {};
  const where = live.id ?? `${meta.schema}.${meta.name}`;
  const renames: [string, string][] = [];
  const diagnostics: Diagnostic[] = [];
  for (const [to, from] of declared) {
    if (columns[to]) continue; // done already (the directive can stay until it is removed)
    if (!columns[from]) {
      diagnostics.push(
        error('plan.reference', `column ${to} is declared renamed_from ${from}, but ${where} has no column ${from} (nor ${to})`, {
          location: sourceAt(desired, `columns.${to}.renamed_from`, `columns.${to}`),
          path: [...desired.path, 'columns', to, 'renamed_from'],
          detail: `Write the column's current live name in renamed_from (live columns: ${Object.keys(columns).join(', ')}), or remove renamed_from to add ${to} as a new column.`,
        }),
      );
      continue;
    }
    renames.push([from, to]);
  }
  if (renames.length === 0) return diagnostics.length > 0 ? { live, children: [...children], attributes: [], diagnostics } : undefined;
  const rename = (name: string) => renames.find(([from]) => from === name)?.[1] ?? name;
  const renameIn = (sql: string) => renames.reduce((text, [from, to]) => renameColumnReferences(text, from, to), sql);
  attrs.columns = Object.fromEntries(Object.entries(columns).map(([n, c]) => [rename(n), c]));
  for (const c of Object.values(attrs.columns)) {
    if (c.references && c.references.table === where) c.references = { ...c.references, column: rename(c.references.column) };
  }
  for (const ix of Object.values(attrs.indexes ?? {})) ix.columns = ix.columns.map(rename);
  if (attrs.checks) attrs.checks = Object.fromEntries(Object.entries(attrs.checks).map(([n, e]) => [n, renameIn(e)]));
  if (attrs.realtime?.exclude) attrs.realtime.exclude = attrs.realtime.exclude.map(rename).sort();
  const liveMeta = structuredClone(live.meta ?? {}) as unknown as TableMeta;
  for (const key of ['uniqueNames', 'foreignKeyNames'] as const) {
    if (liveMeta[key]) liveMeta[key] = Object.fromEntries(Object.entries(liveMeta[key]).map(([n, c]) => [rename(n), c]));
  }
  const attributes: AttributeChange[] = renames.map(([from, to]) => ({ path: ['columns', to, 'name'], before: from, after: to }));
  const renamedChildren = children.map((child): LiveResource => {
    if (child.kind !== 'policy') return child;
    const a = { ...child.attrs };
    for (const field of ['using', 'with_check']) if (typeof a[field] === 'string') a[field] = renameIn(a[field] as string);
    return { ...child, attrs: a };
  });
  return { live: { ...live, attrs: attrs as Record<string, unknown>, meta: liveMeta as unknown as Record<string, unknown> }, children: renamedChildren, attributes, diagnostics };
}
