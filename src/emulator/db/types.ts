/**
 * Storage abstraction shared by the two backends (embedded PGlite and a real PostgreSQL server).
 *
 * A {@link Cluster} owns several physical databases: the main database (the default tenant, which
 * also holds the control-plane tables) and one database per non-default tenant, as the real
 * server does (`CREATE DATABASE tenant_<slug>`). Every database is bootstrapped from the same
 * template (see `bootstrap.ts`).
 */

/** One column of a result set. `dataTypeID` is the PostgreSQL type OID. */
export interface Field {
  name: string;
  dataTypeID: number;
}

/**
 * A normalised result. `rows` are objects keyed by column name, or arrays of raw text values when
 * the query ran with `{ raw: true }` (then every non-null value is PostgreSQL's text output and
 * `fields` tells its type). `rowCount` is the number of rows returned, or affected for DML.
 */
export interface QueryResult<R = Record<string, unknown>> {
  rows: R[];
  fields: Field[];
  rowCount: number;
}

export interface QueryOptions {
  /** Return rows as arrays of raw text values (used by `/sql/execute` to render values itself). */
  raw?: boolean;
  /**
   * Only for a fixed statement without parameters run first in a transaction: the postgres
   * backend sends it in one message with the transaction's BEGIN (one round trip instead of
   * two). Never for SQL from a request: a statement that does not parse would fail BEGIN too.
   */
  withBegin?: boolean;
}

/** Something that runs SQL: a database or an open transaction. */
export interface Sql {
  /** Runs one statement with `$n` parameters (extended protocol). Throws the driver's error. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>>;
  /** Runs a script of one or more statements without parameters (simple protocol). */
  exec(text: string): Promise<void>;
}

/** A physical database. */
export interface Database extends Sql {
  /** Physical name (a PostgreSQL database name or a PGlite instance name). */
  readonly name: string;
  /**
   * Runs `fn` inside BEGIN … COMMIT on one connection; ROLLBACK when `fn` throws (the error is
   * rethrown). A COMMIT of an aborted transaction silently rolls back, as in PostgreSQL.
   * Inside `fn`, use only the given `tx` (PGlite serialises the whole instance).
   */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
}

/** A set of physical databases created from one bootstrapped template. */
export interface Cluster {
  readonly kind: 'pglite' | 'postgres';
  /** True when the databases existed before this start (a persisted PGlite `dataDir`): a restart. */
  readonly restarted: boolean;
  /**
   * Called once for every persisted tenant database when this process first opens it (tenant
   * databases start lazily, so start-up work on them is done then). Only a restarted cluster
   * opens persisted databases.
   */
  onReopen?: (physicalName: string, db: Database) => Promise<void>;
  /** The main database (default tenant + control plane). */
  readonly main: Database;
  /** Opens (lazily starts) an existing tenant database. Throws when it does not exist. */
  open(physicalName: string): Promise<Database>;
  /** Creates a tenant database from the template and returns it. Throws when it exists. */
  create(physicalName: string): Promise<Database>;
  /** Drops a tenant database if it exists (closing its connections first). */
  drop(physicalName: string): Promise<void>;
  /** Whether a tenant database exists. */
  exists(physicalName: string): Promise<boolean>;
  /** Maps a logical tenant database name (`tenant_acme`) to a physical one. */
  physicalName(logicalName: string): string;
  /** Closes every database; the postgres backend also drops the databases it created. */
  close(): Promise<void>;
}

/** The subset of a PostgreSQL error that both drivers expose. */
export interface PgErrorLike {
  message: string;
  severity?: string;
  code?: string;
}

/** Whether `e` looks like a server error (has a SQLSTATE). */
export function isPgError(e: unknown): e is PgErrorLike {
  return typeof e === 'object' && e !== null && typeof (e as PgErrorLike).code === 'string' && typeof (e as PgErrorLike).message === 'string';
}

/**
 * Renders an error the way pgx does (`pgconn.PgError.Error()`):
 * `ERROR: relation "nope" does not exist (SQLSTATE 42P01)`. Non-server errors give their message.
 */
export function pgErrorText(e: unknown): string {
  if (isPgError(e)) {
    return `${e.severity ?? 'ERROR'}: ${e.message} (SQLSTATE ${e.code})`;
  }
  return e instanceof Error ? e.message : String(e);
}

/** SQLSTATE of a server error, or undefined. */
export function sqlState(e: unknown): string | undefined {
  return isPgError(e) ? e.code : undefined;
}

/** Double-quotes an identifier for SQL, doubling embedded quotes. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Quotes a string literal for SQL (standard_conforming_strings on). */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
