/**
 * The steps of a table change, computed at plan time so the plan shows (and apply runs) exactly
 * them: DDL endpoint calls where the real API can express the change (create with allow-listed
 * types, add/drop column, RLS toggle, realtime), and one migration with the SQL of everything else.
 * Inside the migration, drops come first, then added columns, column alterations, and finally
 * added keys, constraints and indexes.
 */
import type { AttributeChange, PlannedStep } from '../model/plan.js';
import { canonicalType, ddlAcceptsType } from '../sql/types.js';
import { defaultInput } from '../sql/defaults.js';
import {
  alterTable,
  checkClause,
  columnDefinition,
  constraintName,
  createIndex,
  createTable,
  dropIndex,
  foreignKeyClause,
  serviceRoleGrant,
  uniqueClause,
  type ColumnSql,
} from '../sql/ddl.js';
import { quoteIdent } from '../sql/identifiers.js';
import type { ColumnAttrs, TableAttrs, TableMeta } from './table-spec.js';
import { tablePlacement, type TablePlacement } from './tenant-limits.js';
import type { PlanRequest } from './types.js';

const PRIMARY_KEY_SUFFIX = 'pkey';

/**
 * Steps for a create, update or delete of one table. `reasons` (when given) receives, for
 * messages, what makes a migration necessary ("index posts_author_idx", "type of column x").
 */
export function planTableSteps({ change, desired, live }: PlanRequest, reasons: string[] = []): PlannedStep[] {
  if (desired?.external || (change.action === 'delete' && !live)) return externalSteps(change.attributes, change.action, desired?.attrs as TableAttrs);
  const meta = (desired?.meta ?? {}) as { schema?: string; name?: string; defaultInputs?: Record<string, unknown> };
  const [tenant, schema, table] = [change.address.split('.')[1]!, change.address.split('.')[2]!, change.address.split('.')[3]!];
  if (change.action === 'delete') return [{ op: 'ddl_drop_table' }];
  const attrs = desired!.attrs as TableAttrs;
  const inputs = (meta.defaultInputs ?? {}) as Record<string, string | number | boolean | null>;
  if (change.action === 'create' || change.action === 'replace') {
    const placement = tablePlacement(tenant, schema);
    const steps = createSteps(schema, table, attrs, inputs, placement === 'tenant-public' || rlsInOneStep(placement, attrs), reasons);
    if (change.action === 'replace') steps.unshift({ op: 'ddl_drop_table' });
    return steps;
  }
  return updateSteps(schema, table, attrs, (live?.meta ?? { uniqueNames: {}, foreignKeyNames: {} }) as unknown as TableMeta, change.attributes, inputs, live?.attrs as TableAttrs | undefined, reasons);
}

/** An external table: only RLS and realtime are managed. */
function externalSteps(attributes: AttributeChange[], action: string, attrs: TableAttrs | undefined): PlannedStep[] {
  if (action === 'delete' || !attrs) return [];
  const steps: PlannedStep[] = [];
  if (attributes.some((a) => a.path[0] === 'rls_enabled')) steps.push({ op: 'rls_toggle', enabled: attrs.rls_enabled });
  steps.push(...realtimeSteps(attributes, attrs));
  return steps;
}

function columnSql(name: string, c: ColumnAttrs): ColumnSql {
  return { name, type: canonicalType(c.type) ?? c.type, nullable: c.nullable, default: c.default };
}

/** True when POST /ddl/tables (or add column) can create this column exactly. */
function ddlColumn(c: ColumnAttrs): boolean {
  return ddlAcceptsType(c.type) && !c.unique && c.references === null;
}

function columnConstraints(table: string, name: string, c: ColumnAttrs): string[] {
  const out: string[] = [];
  if (c.unique) out.push(uniqueClause(constraintName(table, name, 'key'), [name]));
  if (c.references) {
    out.push(
      foreignKeyClause({
        name: constraintName(table, name, 'fkey'),
        columns: [name],
        table: c.references.table,
        refColumns: [c.references.column],
        onDelete: c.references.on_delete,
        onUpdate: c.references.on_update,
      }),
    );
  }
  return out;
}

/**
 * A new table must never be reachable without the RLS its configuration declares. The DDL
 * endpoint cannot create a table with RLS on (enabling it is a second call, and a run stopped in
 * between would leave the table open), but a migration can do both in one transaction. A tenant's
 * `public` is created by one migration anyway (F2); where migrations run as the admin user (the
 * default tenant: internal/migrations/executor.go:68-79) a table that declares RLS is created by
 * one migration too. Elsewhere the create is two steps, recorded as it goes, and a table left
 * without its RLS is the first thing the next apply fixes (engine/plan.ts, `runsFirst`).
 */
function rlsInOneStep(placement: TablePlacement, attrs: TableAttrs): boolean {
  return attrs.rls_enabled === true && placement === 'main';
}

/**
 * Steps that create a table. With `viaMigration` (a tenant's `public`, F2, or a table that
 * declares RLS where migrations run as the admin user) the whole table — keys, constraints,
 * indexes, grants and RLS — is one migration, so RLS is on from the first moment (and in a
 * tenant's `public`, `tenant_migration_role` owns it and every later change can run as a
 * migration too).
 */
function createSteps(
  schema: string,
  table: string,
  attrs: TableAttrs,
  inputs: Record<string, string | number | boolean | null>,
  viaMigration: boolean,
  reasons: string[],
): PlannedStep[] {
  const columns = Object.entries(attrs.columns ?? {});
  const steps: PlannedStep[] = [];
  const extra: string[] = [];
  for (const [name, c] of columns) {
    if (!ddlAcceptsType(c.type)) reasons.push(`type ${c.type} of column ${name}`);
    if (c.unique) reasons.push(`unique column ${name}`);
    if (c.references) reasons.push(`foreign key ${name}`);
  }
  for (const name of Object.keys(attrs.checks ?? {})) reasons.push(`check ${name}`);
  for (const name of Object.keys(attrs.indexes ?? {})) reasons.push(`index ${name}`);
  if (!viaMigration && columns.every(([, c]) => ddlColumn(c))) {
    steps.push({
      op: 'ddl_create_table',
      body: {
        schema,
        name: table,
        columns: columns.map(([name, c]) => ({
          name,
          type: c.type.trim().toLowerCase(),
          nullable: c.nullable,
          primaryKey: c.primary_key,
          defaultValue: defaultInput(inputs[name]),
        })),
      },
    });
  } else {
    extra.push(
      createTable({
        schema,
        table,
        columns: columns.map(([name, c]) => columnSql(name, c)),
        primaryKey: columns.filter(([, c]) => c.primary_key).map(([n]) => n),
        constraints: columns.flatMap(([name, c]) => columnConstraints(table, name, c)),
      }),
      serviceRoleGrant(schema, table),
    );
  }
  for (const [name, expr] of Object.entries(attrs.checks ?? {})) extra.push(alterTable(schema, table, `ADD ${checkClause(name, expr)}`));
  for (const [name, ix] of Object.entries(attrs.indexes ?? {})) extra.push(createIndex(schema, table, name, ix.columns, ix.unique));
  if (viaMigration && attrs.rls_enabled === true) extra.push(alterTable(schema, table, 'ENABLE ROW LEVEL SECURITY'));
  if (extra.length > 0) steps.push({ op: 'migration', sql: extra });
  if (!viaMigration && attrs.rls_enabled === true) steps.push({ op: 'rls_toggle', enabled: true });
  if (attrs.realtime?.enabled) steps.push({ op: 'realtime_enable', events: attrs.realtime.events, exclude: attrs.realtime.exclude });
  return steps;
}

function updateSteps(
  schema: string,
  table: string,
  attrs: TableAttrs,
  meta: TableMeta,
  attributes: AttributeChange[],
  inputs: Record<string, string | number | boolean | null>,
  liveAttrs: TableAttrs | undefined,
  reasons: string[],
): PlannedStep[] {
  const before: PlannedStep[] = [];
  const after: PlannedStep[] = [];
  const drops: string[] = [];
  const adds: string[] = [];
  const alters: string[] = [];
  const constraints: string[] = [];
  const alter = (action: string) => alterTable(schema, table, action);
  const columnsTouched = new Map<string, Set<string>>();
  const indexesTouched = new Set<string>();
  const checksTouched = new Set<string>();
  let primaryKeyChanged = false;

  for (const a of attributes) {
    const [top, key, field] = a.path as [string, string | undefined, string | undefined];
    if (top === 'columns' && key) {
      if (!columnsTouched.has(key)) columnsTouched.set(key, new Set());
      if (field) columnsTouched.get(key)!.add(field);
      if (field === 'primary_key') primaryKeyChanged = true;
      if (!field && (a.before === undefined ? (a.after as ColumnAttrs).primary_key : (a.before as ColumnAttrs).primary_key)) primaryKeyChanged = true;
    } else if (top === 'indexes' && key) indexesTouched.add(key);
    else if (top === 'checks' && key) checksTouched.add(key);
  }

  for (const [name, fields] of columnsTouched) {
    const want = attrs.columns?.[name];
    const had = liveAttrs?.columns?.[name];
    if (want && !had) {
      if (ddlColumn(want) && !want.primary_key) {
        before.push({
          op: 'ddl_add_column',
          column: name,
          body: { name, type: want.type.trim().toLowerCase(), nullable: want.nullable, defaultValue: defaultInput(inputs[name]) },
        });
      } else {
        reasons.push(`column ${name}`);
        adds.push(alter(`ADD COLUMN ${columnDefinition(columnSql(name, want))}`));
        constraints.push(...columnConstraints(table, name, want).map((c) => alter(`ADD ${c}`)));
      }
      continue;
    }
    if (!want && had) {
      after.push({ op: 'ddl_drop_column', column: name });
      continue;
    }
    if (!want || !had) continue;
    const col = quoteIdent(name);
    for (const f of ['type', 'nullable', 'default', 'unique', 'references', 'primary_key']) if (fields.has(f)) reasons.push(`${f.replace('_', ' ')} of column ${name}`);
    if (fields.has('type')) {
      const type = canonicalType(want.type) ?? want.type;
      alters.push(alter(`ALTER COLUMN ${col} TYPE ${type} USING ${col}::${type}`));
    }
    if (fields.has('nullable') && !want.primary_key) alters.push(alter(`ALTER COLUMN ${col} ${want.nullable ? 'DROP' : 'SET'} NOT NULL`));
    if (fields.has('default')) alters.push(alter(want.default === null ? `ALTER COLUMN ${col} DROP DEFAULT` : `ALTER COLUMN ${col} SET DEFAULT ${want.default}`));
    if (fields.has('unique')) {
      if (had.unique && meta.uniqueNames[name]) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(meta.uniqueNames[name]!)}`));
      if (want.unique) constraints.push(alter(`ADD ${uniqueClause(constraintName(table, name, 'key'), [name])}`));
    }
    if (fields.has('references')) {
      if (had.references && meta.foreignKeyNames[name]) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(meta.foreignKeyNames[name]!)}`));
      if (want.references) constraints.push(...columnConstraints(table, name, { ...want, unique: false }).map((c) => alter(`ADD ${c}`)));
    }
  }
  if (primaryKeyChanged) {
    if (meta.primaryKeyName) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(meta.primaryKeyName)}`));
    const pk = Object.entries(attrs.columns ?? {}).filter(([, c]) => c.primary_key).map(([n]) => n);
    if (pk.length > 0) constraints.push(alter(`ADD CONSTRAINT ${quoteIdent(constraintName(table, undefined, PRIMARY_KEY_SUFFIX))} PRIMARY KEY (${pk.map(quoteIdent).join(', ')})`));
  }
  for (const name of [...checksTouched].sort()) reasons.push(`check ${name}`);
  for (const name of [...indexesTouched].sort()) reasons.push(`index ${name}`);
  for (const name of [...checksTouched].sort()) {
    if (liveAttrs?.checks?.[name] !== undefined) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(name)}`));
    const expr = attrs.checks?.[name];
    if (expr !== undefined) constraints.push(alter(`ADD ${checkClause(name, expr)}`));
  }
  for (const name of [...indexesTouched].sort()) {
    if (liveAttrs?.indexes?.[name]) drops.push(dropIndex(schema, name));
    const ix = attrs.indexes?.[name];
    if (ix) constraints.push(createIndex(schema, table, name, ix.columns, ix.unique));
  }
  const sql = [...drops, ...adds, ...alters, ...constraints];
  const steps = [...before];
  if (sql.length > 0) steps.push({ op: 'migration', sql });
  steps.push(...after);
  if (attributes.some((a) => a.path[0] === 'rls_enabled')) steps.push({ op: 'rls_toggle', enabled: attrs.rls_enabled });
  steps.push(...realtimeSteps(attributes, attrs));
  return steps;
}

function realtimeSteps(attributes: AttributeChange[], attrs: TableAttrs): PlannedStep[] {
  const changes = attributes.filter((a) => a.path[0] === 'realtime');
  if (changes.length === 0 || !attrs.realtime) return [];
  const enabledChange = changes.find((a) => a.path[1] === 'enabled');
  if (!attrs.realtime.enabled) return enabledChange ? [{ op: 'realtime_disable' }] : [];
  if (enabledChange) return [{ op: 'realtime_enable', events: attrs.realtime.events, exclude: attrs.realtime.exclude }];
  return [{ op: 'realtime_update', events: attrs.realtime.events, exclude: attrs.realtime.exclude }];
}
