/**
 * DDL handlers (`internal/api/ddl_handler.go`; auth doc §5.1–5.2). DDL executes for real in the
 * tenant's database (or the main one), in its own short transaction, as the admin connection
 * user, so created objects are owned by the admin user.
 *
 * Validation order and messages follow the server exactly, including its precedence quirks:
 * create-table checks schema existence (404) and table existence (409) BEFORE validating columns.
 */
import type { Ctx } from '../http/context.js';
import type { Sql } from '../db/types.js';
import { pgErrorText } from '../db/types.js';
import { parseBody, sendCode, sendSuccess } from '../http/errors.js';
import { identifierProblem, normaliseType, quoteIdentifier, sanitizeDefaultValue } from '../ddl/validation.js';
import { getAllTables, getSchemas, seesAllSchemas, TENANT_VISIBLE_SCHEMAS } from '../ddl/inspector.js';

function db(ctx: Ctx): Sql {
  if (!ctx.tenant) throw new Error('tenant middleware did not run');
  return ctx.tenant.db;
}

/** Runs DDL in its own transaction on the request's database. */
async function execAdmin(ctx: Ctx, ...statements: string[]): Promise<void> {
  if (!ctx.tenant) throw new Error('tenant middleware did not run');
  await ctx.tenant.db.transaction(async (tx) => {
    for (const s of statements) await tx.query(s);
  });
}

async function exists(ctx: Ctx, sql: string, params: unknown[]): Promise<boolean> {
  const r = await db(ctx).query<{ e: boolean }>(`SELECT EXISTS(${sql}) AS e`, params);
  return r.rows[0]?.e === true;
}

export function schemaExists(ctx: Ctx, schema: string): Promise<boolean> {
  return exists(ctx, 'SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [schema]);
}

/** information_schema.tables: tables AND views count. */
export function tableExists(ctx: Ctx, schema: string, table: string): Promise<boolean> {
  return exists(ctx, 'SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2', [schema, table]);
}

function columnExists(ctx: Ctx, schema: string, table: string, column: string): Promise<boolean> {
  return exists(ctx, 'SELECT 1 FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = $3', [schema, table, column]);
}

/** Validates path/body identifiers in order; sends the 400 and returns false on the first problem. */
function validIdents(ctx: Ctx, pairs: Array<[string, string]>): boolean {
  for (const [name, entity] of pairs) {
    const problem = identifierProblem(name, entity);
    if (problem) {
      sendCode(ctx, 400, problem, 'VALIDATION_FAILED');
      return false;
    }
  }
  return true;
}

/** POST /ddl/schemas (and legacy POST /schemas): 201, 409 when it exists. */
export async function createSchema(ctx: Ctx): Promise<void> {
  const req = parseBody<{ name: string }>(ctx, { name: 'string' });
  if (!req || !validIdents(ctx, [[req.name, 'schema']])) return;
  if (await schemaExists(ctx, req.name)) {
    sendCode(ctx, 409, `Schema '${req.name}' already exists`, 'ALREADY_EXISTS');
    return;
  }
  const q = quoteIdentifier(req.name);
  try {
    await execAdmin(ctx, `CREATE SCHEMA ${q}`);
  } catch {
    sendCode(ctx, 500, 'Failed to create schema', 'INTERNAL_ERROR');
    return;
  }
  try {
    await execAdmin(
      ctx,
      `ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA ${q} GRANT ALL ON TABLES TO service_role`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA ${q} GRANT ALL ON FUNCTIONS TO service_role`,
      `ALTER DEFAULT PRIVILEGES FOR ROLE CURRENT_USER IN SCHEMA ${q} GRANT USAGE, SELECT ON SEQUENCES TO service_role`,
      `GRANT USAGE ON SCHEMA ${q} TO service_role, anon, authenticated`,
    );
  } catch {
    /* best effort, as in the server */
  }
  ctx.json(201, { message: `Schema '${req.name}' created successfully`, schema: req.name, success: true });
}

interface ColumnReq {
  name: string;
  type: string;
  nullable: boolean;
  primaryKey: boolean;
  defaultValue: string;
}

/** Builds CREATE TABLE; returns the SQL or a validation message (per-column, 1-based). */
function buildCreateTable(schema: string, table: string, columns: ColumnReq[]): { sql: string } | { problem: string } {
  const defs: string[] = [];
  const pks: string[] = [];
  for (const [i, col] of columns.entries()) {
    const problem = identifierProblem(col.name, 'column');
    if (problem) return { problem: `column ${i + 1}: ${problem}` };
    const type = normaliseType(col.type);
    if (!type) return { problem: `column '${col.name}': invalid data type '${col.type}'` };
    let def = `${quoteIdentifier(col.name)} ${type}`;
    if (!col.nullable) def += ' NOT NULL';
    if (col.defaultValue !== '') def += ` DEFAULT ${sanitizeDefaultValue(col.defaultValue)}`;
    defs.push(def);
    if (col.primaryKey) pks.push(quoteIdentifier(col.name));
  }
  if (pks.length > 0) defs.push(`PRIMARY KEY (${pks.join(', ')})`);
  return { sql: `CREATE TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(table)} (\n  ${defs.join(',\n  ')}\n)` };
}

/** POST /ddl/tables (and legacy POST /tables). */
export async function createTable(ctx: Ctx): Promise<void> {
  const req = parseBody<{ schema: string; name: string; columns: ColumnReq[] | null }>(ctx, {
    schema: 'string',
    name: 'string',
    columns: { slice: { name: 'string', type: 'string', nullable: 'bool', primaryKey: 'bool', defaultValue: 'string' } },
  });
  if (!req || !validIdents(ctx, [[req.schema, 'schema'], [req.name, 'table']])) return;
  const columns = req.columns ?? [];
  if (columns.length === 0) {
    sendCode(ctx, 400, 'At least one column is required', 'VALIDATION_FAILED');
    return;
  }
  if (!(await schemaExists(ctx, req.schema))) {
    sendCode(ctx, 404, `Schema '${req.schema}' does not exist`, 'NOT_FOUND');
    return;
  }
  if (await tableExists(ctx, req.schema, req.name)) {
    sendCode(ctx, 409, `Table '${req.schema}.${req.name}' already exists`, 'ALREADY_EXISTS');
    return;
  }
  const built = buildCreateTable(req.schema, req.name, columns);
  if ('problem' in built) {
    sendCode(ctx, 400, built.problem, 'VALIDATION_FAILED');
    return;
  }
  try {
    await execAdmin(ctx, built.sql);
  } catch {
    sendCode(ctx, 500, 'Failed to create table', 'INTERNAL_ERROR');
    return;
  }
  await grantTablePermissions(ctx, req.schema, req.name);
  ctx.json(201, {
    message: `Table '${req.schema}.${req.name}' created successfully`,
    schema: req.schema,
    success: true,
    table: req.name,
  });
}

/** GRANT to service_role on the table and its `<table>_%` sequences (failures ignored). */
async function grantTablePermissions(ctx: Ctx, schema: string, table: string): Promise<void> {
  try {
    await execAdmin(ctx, `GRANT SELECT, INSERT, UPDATE, DELETE ON ${quoteIdentifier(schema)}.${quoteIdentifier(table)} TO service_role`);
    const seqs = await db(ctx).query<{ n: string }>(
      'SELECT sequence_name::text AS n FROM information_schema.sequences WHERE sequence_schema = $1 AND sequence_name LIKE $2',
      [schema, `${table}_%`],
    );
    for (const s of seqs.rows) {
      await execAdmin(ctx, `GRANT USAGE, SELECT ON SEQUENCE ${quoteIdentifier(schema)}.${quoteIdentifier(s.n)} TO service_role`).catch(() => {});
    }
  } catch {
    /* logged only in the server */
  }
}

/** DELETE /ddl/tables/:schema/:table (and legacy DELETE /tables/:schema/:table): no CASCADE. */
export async function deleteTable(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  if (!validIdents(ctx, [[schema, 'schema'], [table, 'table']])) return;
  if (!(await tableExists(ctx, schema, table))) {
    sendCode(ctx, 404, `Table '${schema}.${table}' does not exist`, 'NOT_FOUND');
    return;
  }
  try {
    await execAdmin(ctx, `DROP TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(table)}`);
  } catch {
    sendCode(ctx, 500, 'Failed to drop table', 'INTERNAL_ERROR');
    return;
  }
  sendSuccess(ctx, `Table '${schema}.${table}' deleted successfully`);
}

/** PATCH /tables/:schema/:table `{"newName"}`: path, then body, then new name validated. */
export async function renameTable(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  if (!validIdents(ctx, [[schema, 'schema'], [table, 'table']])) return;
  const req = parseBody<{ newName: string }>(ctx, { newName: 'string' });
  if (!req || !validIdents(ctx, [[req.newName, 'table']])) return;
  if (!(await tableExists(ctx, schema, table))) {
    sendCode(ctx, 404, `Table '${schema}.${table}' does not exist`, 'NOT_FOUND');
    return;
  }
  if (await tableExists(ctx, schema, req.newName)) {
    sendCode(ctx, 409, `Table '${schema}.${req.newName}' already exists`, 'ALREADY_EXISTS');
    return;
  }
  try {
    await execAdmin(ctx, `ALTER TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(table)} RENAME TO ${quoteIdentifier(req.newName)}`);
  } catch {
    sendCode(ctx, 500, 'Failed to rename table', 'INTERNAL_ERROR');
    return;
  }
  sendSuccess(ctx, `Table '${schema}.${table}' renamed to '${schema}.${req.newName}'`);
}

/** POST /tables/:schema/:table/columns `{"name","type","nullable"=false,"defaultValue"}`. */
export async function addColumn(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  if (!validIdents(ctx, [[schema, 'schema'], [table, 'table']])) return;
  const req = parseBody<{ name: string; type: string; nullable: boolean; defaultValue: string }>(ctx, {
    name: 'string',
    type: 'string',
    nullable: 'bool',
    defaultValue: 'string',
  });
  if (!req || !validIdents(ctx, [[req.name, 'column']])) return;
  const type = normaliseType(req.type);
  if (!type) {
    sendCode(ctx, 400, `Invalid data type '${req.type}'`, 'INVALID_INPUT');
    return;
  }
  if (!(await tableExists(ctx, schema, table))) {
    sendCode(ctx, 404, `Table '${schema}.${table}' does not exist`, 'NOT_FOUND');
    return;
  }
  if (await columnExists(ctx, schema, table, req.name)) {
    sendCode(ctx, 409, `Column '${req.name}' already exists in table '${schema}.${table}'`, 'ALREADY_EXISTS');
    return;
  }
  let def = `${quoteIdentifier(req.name)} ${type}`;
  if (!req.nullable) def += ' NOT NULL';
  if (req.defaultValue !== '') def += ` DEFAULT ${sanitizeDefaultValue(req.defaultValue)}`;
  try {
    await execAdmin(ctx, `ALTER TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(table)} ADD COLUMN ${def}`);
  } catch {
    sendCode(ctx, 500, 'Failed to add column', 'INTERNAL_ERROR');
    return;
  }
  ctx.json(201, { message: `Column '${req.name}' added to table '${schema}.${table}'`, success: true });
}

/** DELETE /tables/:schema/:table/columns/:column: the 500 includes the PostgreSQL text. */
export async function dropColumn(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  const column = ctx.params.column ?? '';
  if (!validIdents(ctx, [[schema, 'schema'], [table, 'table'], [column, 'column']])) return;
  if (!(await tableExists(ctx, schema, table))) {
    sendCode(ctx, 404, `Table '${schema}.${table}' does not exist`, 'NOT_FOUND');
    return;
  }
  if (!(await columnExists(ctx, schema, table, column))) {
    sendCode(ctx, 404, `Column '${column}' does not exist in table '${schema}.${table}'`, 'NOT_FOUND');
    return;
  }
  try {
    await execAdmin(ctx, `ALTER TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(table)} DROP COLUMN ${quoteIdentifier(column)}`);
  } catch (e) {
    sendCode(ctx, 500, `Failed to drop column: ${pgErrorText(e)}`, 'INTERNAL_ERROR');
    return;
  }
  sendSuccess(ctx, `Column '${column}' dropped from table '${schema}.${table}'`);
}

/** Every schema of the database except information_schema, pg_catalog and pg_toast. */
async function userSchemas(ctx: Ctx): Promise<string[]> {
  return (await getSchemas(db(ctx))).filter((s) => s !== 'information_schema' && s !== 'pg_catalog' && s !== 'pg_toast');
}

/**
 * The schemas a table listing covers: `?schema=` when given (not validated, as on the server),
 * else every schema. Undefined after answering `500 OPERATION_FAILED` when listing fails.
 */
export async function schemasToList(ctx: Ctx): Promise<string[] | undefined> {
  const schemaParam = ctx.q('schema');
  if (schemaParam !== '') return [schemaParam];
  try {
    return await userSchemas(ctx);
  } catch {
    sendCode(ctx, 500, 'Failed to list schemas', 'OPERATION_FAILED');
    return undefined;
  }
}

/** Schemas for the caller, minus pg_toast; tenant_admin/tenant_service see a fixed subset. */
export async function visibleSchemas(ctx: Ctx): Promise<string[]> {
  const all = await userSchemas(ctx);
  return seesAllSchemas(ctx.auth?.role) ? all : all.filter((s) => TENANT_VISIBLE_SCHEMAS.has(s));
}

/** GET /ddl/schemas: `{"schemas":[{"name","owner":"postgres"}]}` (owner is a constant). */
export async function listSchemasDdl(ctx: Ctx): Promise<void> {
  let schemas: string[];
  try {
    schemas = await visibleSchemas(ctx);
  } catch {
    sendCode(ctx, 500, 'Failed to list schemas', 'OPERATION_FAILED');
    return;
  }
  ctx.json(200, { schemas: schemas.length ? schemas.map((name) => ({ name, owner: 'postgres' })) : null });
}

/** GET /ddl/tables[?schema=]: `{"tables":[{"schema","name"}]}`, `{"tables":null}` when empty. */
export async function listTablesDdl(ctx: Ctx): Promise<void> {
  const schemas = await schemasToList(ctx);
  if (!schemas) return;
  const tables: Array<{ schema: string; name: string }> = [];
  for (const s of schemas) {
    try {
      for (const t of await getAllTables(db(ctx), s)) tables.push({ schema: t.schema, name: t.name });
    } catch {
      /* a schema whose introspection fails is skipped silently */
    }
  }
  ctx.json(200, { tables: tables.length ? tables : null });
}
