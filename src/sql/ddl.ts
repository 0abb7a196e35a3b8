/**
 * SQL for what the DDL endpoints cannot express, generated from canonical table attributes and
 * run through the migrations API. Types are written in their canonical spelling (never the raw
 * config text), identifiers are always quoted, defaults go through the server's own sanitiser
 * and expressions (already checked to parse as one expression) are put on their own lines.
 */
import { qualified, quoteIdent } from './identifiers.js';

/** A column as the SQL generator needs it. `type` is canonical; `default` is SQL or null. */
export interface ColumnSql {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
}

/** A foreign key. `table` is `schema.table`. */
export interface ForeignKeySql {
  name: string;
  columns: string[];
  table: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

/** `"name" type [NOT NULL] [DEFAULT expr]` */
export function columnDefinition(c: ColumnSql): string {
  return `${quoteIdent(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`;
}

function refTable(table: string): string {
  const [schema, name] = table.split('.') as [string, string];
  return qualified(schema, name);
}

function list(cols: readonly string[]): string {
  return cols.map(quoteIdent).join(', ');
}

/** `CONSTRAINT "n" FOREIGN KEY (…) REFERENCES "s"."t" (…) ON DELETE … ON UPDATE …` */
export function foreignKeyClause(fk: ForeignKeySql): string {
  return `CONSTRAINT ${quoteIdent(fk.name)} FOREIGN KEY (${list(fk.columns)}) REFERENCES ${refTable(fk.table)} (${list(fk.refColumns)}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`;
}

/** `CONSTRAINT "n" UNIQUE (…)` */
export function uniqueClause(name: string, columns: readonly string[]): string {
  return `CONSTRAINT ${quoteIdent(name)} UNIQUE (${list(columns)})`;
}

/** `CONSTRAINT "n" CHECK (\n<expr>\n)` */
export function checkClause(name: string, expression: string): string {
  return `CONSTRAINT ${quoteIdent(name)} CHECK (\n  ${expression}\n)`;
}

/** CREATE TABLE with columns, primary key and table constraints. */
export function createTable(req: {
  schema: string;
  table: string;
  columns: readonly ColumnSql[];
  primaryKey: readonly string[];
  constraints: readonly string[];
}): string {
  const lines = req.columns.map((c) => `  ${columnDefinition(c)}`);
  if (req.primaryKey.length > 0) lines.push(`  PRIMARY KEY (${list(req.primaryKey)})`);
  for (const c of req.constraints) lines.push(`  ${c}`);
  return `CREATE TABLE ${qualified(req.schema, req.table)} (\n${lines.join(',\n')}\n)`;
}

/** The grants POST /ddl/tables gives every new table, so both routes produce the same table. */
export function serviceRoleGrant(schema: string, table: string): string {
  return `GRANT SELECT, INSERT, UPDATE, DELETE ON ${qualified(schema, table)} TO service_role`;
}

/**
 * The GRANT and REVOKE that give `role` exactly `after` of the privileges `managed` on a table,
 * given it holds `before` (undefined: unknown, so every managed privilege not wanted is revoked).
 * `public` is PostgreSQL's PUBLIC pseudo-role and is written unquoted.
 */
export function grantStatements(req: {
  schema: string;
  table: string;
  role: string;
  before: readonly string[] | undefined;
  after: readonly string[];
  managed: readonly string[];
}): string[] {
  const target = qualified(req.schema, req.table);
  const grantee = req.role === 'public' ? 'PUBLIC' : quoteIdent(req.role);
  const add = req.after.filter((p) => !req.before?.includes(p));
  const remove = req.managed.filter((p) => !req.after.includes(p) && (req.before === undefined || req.before.includes(p)));
  return [
    ...(add.length > 0 ? [`GRANT ${add.join(', ')} ON ${target} TO ${grantee}`] : []),
    ...(remove.length > 0 ? [`REVOKE ${remove.join(', ')} ON ${target} FROM ${grantee}`] : []),
  ];
}

/** `ALTER TABLE "s"."t" <action>` */
export function alterTable(schema: string, table: string, action: string): string {
  return `ALTER TABLE ${qualified(schema, table)} ${action}`;
}

/** `CREATE [UNIQUE] INDEX "n" ON "s"."t" (…)` */
export function createIndex(schema: string, table: string, name: string, columns: readonly string[], unique: boolean): string {
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(name)} ON ${qualified(schema, table)} (${list(columns)})`;
}

/** `DROP INDEX "s"."n"` */
export function dropIndex(schema: string, name: string): string {
  return `DROP INDEX ${qualified(schema, name)}`;
}

/**
 * PostgreSQL's own name for an implicit constraint (makeObjectName): `<table>_<column>_<suffix>`,
 * shortening the longer of table and column one character at a time until it fits 63 bytes.
 */
export function constraintName(table: string, column: string | undefined, suffix: string): string {
  let a = table;
  let b = column ?? '';
  const overhead = suffix.length + 1 + (b ? 1 : 0);
  while (Buffer.byteLength(a) + Buffer.byteLength(b) + overhead > 63) {
    if (Buffer.byteLength(a) >= Buffer.byteLength(b)) a = a.slice(0, -1);
    else b = b.slice(0, -1);
  }
  return b ? `${a}_${b}_${suffix}` : `${a}_${suffix}`;
}
