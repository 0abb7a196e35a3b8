/**
 * The steps of a table change, computed at plan time so the plan shows (and apply runs) exactly
 * them: DDL endpoint calls where the real API can express the change exactly (create with
 * allow-listed types and defaults the server keeps as written, add/drop column, rename table, RLS
 * toggle, realtime), and migrations with the SQL of everything else. Every migration starts with
 * `SET LOCAL lock_timeout` (docs/hazards.md "Locks"). Inside the main migration, column renames
 * come first, then drops, added columns, column alterations, and finally added keys, constraints
 * and indexes. On an existing table, checks and foreign keys are added NOT VALID and validated in
 * a second migration — its own transaction, so the validating scan holds only a lock that lets
 * reads and writes through.
 *
 * Also returns the change's data hazards (type changes, rewrites, long locks) and the problems
 * the plan can see before any call (a type change PostgreSQL refuses without `using:`, a NOT NULL
 * column without a default added to a table that has data).
 */
import { error, type Diagnostic, type SourceLocation } from '../diag/index.js';
import type { AttributeChange, Hazard, PlannedStep } from '../model/plan.js';
import { canonicalType, ddlAcceptsType } from '../sql/types.js';
import { ddlDefaultInput, volatileDefault } from '../sql/defaults.js';
import { expressionsEqual } from '../sql/expression.js';
import { classifyTypeChange } from '../sql/type-change.js';
import {
  alterTable,
  checkClause,
  columnDefinition,
  constraintName,
  createIndex,
  createTable,
  dropIndex,
  foreignKeyClause,
  grantStatements,
  serviceRoleGrant,
  uniqueClause,
  type ColumnSql,
} from '../sql/ddl.js';
import { quoteIdent } from '../sql/identifiers.js';
import { hazard, sourceAt } from './common.js';
import type { DesiredResource } from '../model/resource.js';
import { DEFAULT_LOCK_TIMEOUT, withLockTimeout } from './migrations.js';
import { NOT_VALID_SUFFIX, TABLE_PRIVILEGES, type ColumnAttrs, type TableAttrs, type TableDesiredMeta, type TableMeta } from './table-spec.js';
import { tablePlacement, type TablePlacement } from './tenant-limits.js';
import type { PlanRequest } from './types.js';

const PRIMARY_KEY_SUFFIX = 'pkey';

/** What planning one table change gives: the steps, their hazards and the problems found. */
export interface TableStepsResult {
  steps: PlannedStep[];
  hazards: Hazard[];
  diagnostics: Diagnostic[];
}

/**
 * Steps for a create, update or delete of one table. `reasons` (when given) receives, for
 * messages, what makes a migration necessary ("index posts_author_idx", "type of column x").
 */
export function planTableSteps({ change, desired, live, lockTimeout }: PlanRequest, reasons: string[] = []): TableStepsResult {
  const none = { hazards: [], diagnostics: [] };
  if (desired?.external || (change.action === 'delete' && !live)) {
    return { steps: externalSteps(change.attributes, change.action, desired?.attrs as TableAttrs, change.address), ...none };
  }
  const [tenant, schema, table] = [change.address.split('.')[1]!, change.address.split('.')[2]!, change.address.split('.')[3]!];
  if (change.action === 'delete') return { steps: [{ op: 'ddl_drop_table' }], ...none };
  const attrs = desired!.attrs as TableAttrs;
  const timeout = lockTimeout ?? DEFAULT_LOCK_TIMEOUT;
  if (change.action === 'create' || change.action === 'replace') {
    const placement = tablePlacement(tenant, schema);
    const steps = createSteps({ schema, table, attrs, timeout, viaMigration: placement === 'tenant-public' || rlsInOneStep(placement, attrs), reasons });
    if (change.action === 'replace') steps.unshift({ op: 'ddl_drop_table' });
    return { steps, ...none };
  }
  return updateSteps({
    schema,
    table,
    attrs,
    meta: (desired!.meta ?? {}) as Partial<TableDesiredMeta>,
    live: (live?.meta ?? { uniqueNames: {}, foreignKeyNames: {} }) as unknown as TableMeta,
    liveAttrs: live?.attrs as TableAttrs | undefined,
    attributes: change.attributes,
    timeout,
    desired: desired!,
    reasons,
  });
}

/** An external table: only RLS, grants and realtime are managed. */
function externalSteps(attributes: AttributeChange[], action: string, attrs: TableAttrs | undefined, address: string): PlannedStep[] {
  if (action === 'delete' || !attrs) return [];
  const steps: PlannedStep[] = [];
  const [schema, table] = [address.split('.')[2]!, address.split('.')[3]!];
  const grants = grantChanges(schema, table, attributes, attrs);
  if (grants.length > 0) steps.push({ op: 'migration', sql: grants });
  if (attributes.some((a) => a.path[0] === 'rls_enabled')) steps.push({ op: 'rls_toggle', enabled: attrs.rls_enabled });
  steps.push(...realtimeSteps(attributes, attrs));
  return steps;
}

function columnSql(name: string, c: ColumnAttrs): ColumnSql {
  return { name, type: canonicalType(c.type) ?? c.type, nullable: c.nullable, default: c.default };
}

/**
 * The `defaultValue` for POST /ddl/tables or add column when that endpoint can create this
 * column exactly (allow-listed type, no key or reference, a default the server keeps as the
 * declared expression), else undefined.
 */
function ddlColumn(c: ColumnAttrs): string | undefined {
  if (!ddlAcceptsType(c.type) || c.unique || c.references !== null) return undefined;
  return ddlDefaultInput(c.default);
}

function columnConstraints(table: string, name: string, c: ColumnAttrs): string[] {
  const out: string[] = [];
  if (c.unique) out.push(uniqueClause(constraintName(table, name, 'key'), [name]));
  if (c.references) out.push(referenceClause(table, name, c));
  return out;
}

function referenceClause(table: string, name: string, c: ColumnAttrs): string {
  const ref = c.references!;
  return foreignKeyClause({
    name: constraintName(table, name, 'fkey'),
    columns: [name],
    table: ref.table,
    refColumns: [ref.column],
    onDelete: ref.on_delete,
    onUpdate: ref.on_update,
  });
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
function createSteps(req: { schema: string; table: string; attrs: TableAttrs; timeout: string; viaMigration: boolean; reasons: string[] }): PlannedStep[] {
  const { schema, table, attrs, viaMigration, reasons } = req;
  const columns = Object.entries(attrs.columns ?? {});
  const steps: PlannedStep[] = [];
  const extra: string[] = [];
  const inputs = columns.map(([, c]) => ddlColumn(c));
  for (const [name, c] of columns) {
    if (!ddlAcceptsType(c.type)) reasons.push(`type ${c.type} of column ${name}`);
    else if (ddlDefaultInput(c.default) === undefined) reasons.push(`default of column ${name}`);
    if (c.unique) reasons.push(`unique column ${name}`);
    if (c.references) reasons.push(`foreign key ${name}`);
  }
  for (const name of Object.keys(attrs.checks ?? {})) reasons.push(`check ${name}`);
  for (const name of Object.keys(attrs.indexes ?? {})) reasons.push(`index ${name}`);
  for (const role of Object.keys(attrs.grants ?? {})) reasons.push(`grants of ${role}`);
  if (!viaMigration && inputs.every((input) => input !== undefined)) {
    steps.push({
      op: 'ddl_create_table',
      body: {
        schema,
        name: table,
        columns: columns.map(([name, c], i) => ({
          name,
          type: c.type.trim().toLowerCase(),
          nullable: c.nullable,
          primaryKey: c.primary_key,
          defaultValue: inputs[i],
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
  for (const [role, list] of Object.entries(attrs.grants ?? {})) {
    extra.push(...grantStatements({ schema, table, role, before: undefined, after: list, managed: TABLE_PRIVILEGES }));
  }
  if (viaMigration && attrs.rls_enabled === true) extra.push(alterTable(schema, table, 'ENABLE ROW LEVEL SECURITY'));
  if (extra.length > 0) steps.push({ op: 'migration', sql: withLockTimeout(extra, req.timeout) });
  if (!viaMigration && attrs.rls_enabled === true) steps.push({ op: 'rls_toggle', enabled: true });
  if (attrs.realtime?.enabled) steps.push({ op: 'realtime_enable', events: attrs.realtime.events, exclude: attrs.realtime.exclude });
  return steps;
}

/** Everything updateSteps needs about one table update. */
interface UpdateInput {
  schema: string;
  table: string;
  attrs: TableAttrs;
  meta: Partial<TableDesiredMeta>;
  live: TableMeta;
  liveAttrs: TableAttrs | undefined;
  attributes: AttributeChange[];
  timeout: string;
  desired: DesiredResource;
  /** Receives what makes a migration necessary (see planTableSteps). */
  reasons: string[];
}

function updateSteps(input: UpdateInput): TableStepsResult {
  const { schema, table, attrs, meta, live, liveAttrs, attributes, reasons } = input;
  const where = `${schema}.${table}`;
  const before: PlannedStep[] = [];
  const after: PlannedStep[] = [];
  const renames: string[] = [];
  const drops: string[] = [];
  const adds: string[] = [];
  const alters: string[] = [];
  const constraints: string[] = [];
  const validations: string[] = [];
  const hazards: Hazard[] = [];
  const diagnostics: Diagnostic[] = [];
  const alter = (action: string) => alterTable(schema, table, action);
  const at = (column: string, field: 'type'): SourceLocation | undefined => sourceAt(input.desired, `columns.${column}.${field}`, `columns.${column}`);
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

  // The server keeps a realtime registration by table name and does not follow a rename: drop it
  // under the old name, then register the table again under the new one.
  const from = attributes.find((a) => a.path.length === 1 && a.path[0] === 'name')?.before as string | undefined;
  const reregister = from !== undefined && liveAttrs?.realtime?.enabled === true;
  if (from !== undefined) {
    if (reregister) before.push({ op: 'realtime_disable', table: from });
    before.push({ op: 'ddl_rename_table', from, to: table });
  }

  for (const [name, fields] of columnsTouched) {
    const want = attrs.columns?.[name];
    const had = liveAttrs?.columns?.[name];
    if (want && !had) {
      if (volatileDefault(want.default)) {
        hazards.push(hazard('REWRITES_TABLE', `Adds column ${name} to ${where} with a default that is computed per row (${want.default}): every row is rewritten while the table is locked.`));
      }
      const ddlInput = want.primary_key ? undefined : ddlColumn(want);
      if (ddlInput !== undefined) {
        before.push({
          op: 'ddl_add_column',
          column: name,
          body: { name, type: want.type.trim().toLowerCase(), nullable: want.nullable, defaultValue: ddlInput },
        });
      } else {
        reasons.push(`column ${name}`);
        adds.push(alter(`ADD COLUMN ${columnDefinition(columnSql(name, want))}`));
        if (want.unique) {
          constraints.push(alter(`ADD ${uniqueClause(constraintName(table, name, 'key'), [name])}`));
          hazards.push(lockHazard(`Adds a unique constraint on ${where}.${name}`, where));
        }
        if (want.references) addValidated(referenceClause(table, name, want), constraintName(table, name, 'fkey'));
      }
      continue;
    }
    if (!want && had) {
      after.push({ op: 'ddl_drop_column', column: name });
      continue;
    }
    if (!want || !had) continue;
    const col = quoteIdent(name);
    const renamedFrom = meta.columnRenames?.[name];
    if (fields.has('name') && renamedFrom) renames.push(alter(`RENAME COLUMN ${quoteIdent(renamedFrom)} TO ${col}`));
    for (const f of ['name', 'type', 'nullable', 'default', 'unique', 'references', 'primary_key']) if (fields.has(f)) reasons.push(`${f.replace('_', ' ')} of column ${name}`);
    let resetDefault = false;
    if (fields.has('type')) {
      const type = canonicalType(want.type) ?? want.type;
      const using = meta.using?.[name];
      const kind = classifyTypeChange(had.type, want.type);
      const what = `${where}.${name} from ${had.type} to ${type}`;
      if (kind.kind === 'needs-using' && !using) {
        diagnostics.push(
          error('plan.type-change', `column ${name} cannot change from ${had.type} to ${type} without a conversion`, {
            location: at(name, 'type'),
            path: [...input.desired.path, 'columns', name, 'type'],
            detail: `${kind.reason}, so it refuses the change without a USING expression. Add \`using:\` to the column with the conversion, e.g. \`using: "${name}::${type}"\` if every value converts, or an expression that handles the ones that do not.`,
          }),
        );
      }
      if (kind.kind === 'lossy' && !using) {
        hazards.push(hazard('LOSES_DATA', `Changes ${what}: ${kind.reason}. To convert on purpose instead, give the column \`using:\` with the conversion.`));
      }
      if (using || kind.kind !== 'binary') {
        const note = using ? `converting every value with ${using}` : kind.kind === 'narrowing' ? `${kind.reason} (nothing is truncated: the whole change fails)` : kind.reason;
        hazards.push(hazard('REWRITES_TABLE', `Changes ${what}, ${note}: every row is rewritten and its indexes rebuilt while the table is locked against reads and writes.`));
      }
      // PostgreSQL converts the default with the column's cast; where that may fail (no automatic
      // cast, a value that does not fit) or change it, drop it first and set it again afterwards.
      resetDefault = had.default !== null && (using !== undefined || kind.kind === 'needs-using' || kind.kind === 'narrowing' || kind.kind === 'lossy');
      if (resetDefault) alters.push(alter(`ALTER COLUMN ${col} DROP DEFAULT`));
      alters.push(alter(`ALTER COLUMN ${col} TYPE ${type}${using ? ` USING (${using})` : ''}`));
    }
    if (fields.has('nullable') && !want.primary_key) {
      alters.push(alter(`ALTER COLUMN ${col} ${want.nullable ? 'DROP' : 'SET'} NOT NULL`));
      if (!want.nullable) hazards.push(lockHazard(`Sets ${where}.${name} NOT NULL, which scans every row`, where, false));
    }
    if (fields.has('default') || (resetDefault && want.default !== null)) {
      alters.push(alter(want.default === null ? `ALTER COLUMN ${col} DROP DEFAULT` : `ALTER COLUMN ${col} SET DEFAULT ${want.default}`));
    }
    if (fields.has('unique')) {
      if (had.unique && live.uniqueNames[name]) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(live.uniqueNames[name]!)}`));
      if (want.unique) {
        constraints.push(alter(`ADD ${uniqueClause(constraintName(table, name, 'key'), [name])}`));
        hazards.push(lockHazard(`Adds a unique constraint on ${where}.${name}`, where));
      }
    }
    if (fields.has('references')) {
      const fkName = live.foreignKeyNames[name];
      const onlyValidation = had.references?.not_valid && want.references && sameReference(had, want);
      if (onlyValidation) validations.push(alter(`VALIDATE CONSTRAINT ${quoteIdent(fkName!)}`));
      else {
        if (had.references && fkName) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(fkName)}`));
        if (want.references) addValidated(referenceClause(table, name, want), constraintName(table, name, 'fkey'));
      }
    }
  }
  if (primaryKeyChanged) {
    if (live.primaryKeyName) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(live.primaryKeyName)}`));
    const pk = Object.entries(attrs.columns ?? {}).filter(([, c]) => c.primary_key).map(([n]) => n);
    if (pk.length > 0) {
      constraints.push(alter(`ADD CONSTRAINT ${quoteIdent(constraintName(table, undefined, PRIMARY_KEY_SUFFIX))} PRIMARY KEY (${pk.map(quoteIdent).join(', ')})`));
      hazards.push(lockHazard(`Adds the primary key of ${where}`, where));
    }
  }
  for (const name of [...checksTouched].sort()) reasons.push(`check ${name}`);
  for (const name of [...indexesTouched].sort()) reasons.push(`index ${name}`);
  for (const a of attributes) if (a.path[0] === 'grants' && a.path.length === 2) reasons.push(`grants of ${a.path[1]}`);
  for (const name of [...checksTouched].sort()) {
    const had = liveAttrs?.checks?.[name];
    const expr = attrs.checks?.[name];
    if (had !== undefined && expr !== undefined && had.endsWith(NOT_VALID_SUFFIX) && expressionsEqual(had.slice(0, -NOT_VALID_SUFFIX.length), expr)) {
      validations.push(alter(`VALIDATE CONSTRAINT ${quoteIdent(name)}`));
      continue;
    }
    if (had !== undefined) drops.push(alter(`DROP CONSTRAINT ${quoteIdent(name)}`));
    if (expr !== undefined) addValidated(checkClause(name, expr), name);
  }
  for (const name of [...indexesTouched].sort()) {
    if (liveAttrs?.indexes?.[name]) drops.push(dropIndex(schema, name));
    const ix = attrs.indexes?.[name];
    if (ix) {
      constraints.push(createIndex(schema, table, name, ix.columns, ix.unique));
      hazards.push(lockHazard(`Builds index ${name} on ${where}`, where));
    }
  }
  const sql = [...renames, ...drops, ...adds, ...alters, ...constraints, ...grantChanges(schema, table, attributes, attrs)];
  const steps = [...before];
  if (sql.length > 0) steps.push({ op: 'migration', sql: withLockTimeout(sql, input.timeout) });
  if (validations.length > 0) steps.push({ op: 'migration', sql: withLockTimeout(validations, input.timeout) });
  steps.push(...after);
  if (attributes.some((a) => a.path[0] === 'rls_enabled')) steps.push({ op: 'rls_toggle', enabled: attrs.rls_enabled });
  if (reregister) {
    const rt = attrs.realtime ?? liveAttrs!.realtime!;
    if (rt.enabled) steps.push({ op: 'realtime_enable', events: rt.events, exclude: rt.exclude });
  } else steps.push(...realtimeSteps(attributes, attrs));
  return { steps, hazards, diagnostics };

  /** A check or foreign key added NOT VALID, then validated in its own migration. */
  function addValidated(clause: string, name: string): void {
    constraints.push(alter(`ADD ${clause} NOT VALID`));
    validations.push(alter(`VALIDATE CONSTRAINT ${quoteIdent(name)}`));
  }
}

/** True when two columns' foreign keys differ only in whether PostgreSQL has validated the live one. */
function sameReference(had: ColumnAttrs, want: ColumnAttrs): boolean {
  const [a, b] = [had.references!, want.references!];
  return a.table === b.table && a.column === b.column && a.on_delete === b.on_delete && a.on_update === b.on_update;
}

/**
 * LOCKS_TABLE: a statement that holds a lock for time that grows with the table. `writes`: a
 * SHARE lock (index builds: reads continue); otherwise ACCESS EXCLUSIVE (reads wait too).
 */
function lockHazard(what: string, where: string, writes = true): Hazard {
  return hazard(
    'LOCKS_TABLE',
    writes
      ? `${what}: writes to ${where} wait until the index is built (the migrations API runs each migration in a transaction, where CREATE INDEX CONCURRENTLY is impossible).`
      : `${what}: reads and writes of ${where} wait until the scan ends.`,
  );
}

/** GRANT/REVOKE statements for the changed `grants.<role>` attributes. */
function grantChanges(schema: string, table: string, attributes: AttributeChange[], attrs: TableAttrs): string[] {
  return attributes
    .filter((a) => a.path[0] === 'grants' && a.path.length === 2)
    .flatMap((a) =>
      grantStatements({
        schema,
        table,
        role: a.path[1]!,
        before: (a.before as string[] | undefined) ?? [],
        after: attrs.grants?.[a.path[1]!] ?? [],
        managed: TABLE_PRIVILEGES,
      }),
    );
}

function realtimeSteps(attributes: AttributeChange[], attrs: TableAttrs): PlannedStep[] {
  const changes = attributes.filter((a) => a.path[0] === 'realtime');
  if (changes.length === 0 || !attrs.realtime) return [];
  const enabledChange = changes.find((a) => a.path[1] === 'enabled');
  if (!attrs.realtime.enabled) return enabledChange ? [{ op: 'realtime_disable' }] : [];
  if (enabledChange) return [{ op: 'realtime_enable', events: attrs.realtime.events, exclude: attrs.realtime.exclude }];
  return [{ op: 'realtime_update', events: attrs.realtime.events, exclude: attrs.realtime.exclude }];
}
