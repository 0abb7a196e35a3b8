/**
 * Backend (b): a real PostgreSQL server given by a connection URL (`pg` driver).
 *
 * Every emulator instance uses its own database-name prefix (`fbemu_<random>_`), so several
 * emulators can share one server in parallel tests. Databases are cloned with
 * `CREATE DATABASE … TEMPLATE fbemu_tpl_<bootstrap version>`; the template is built once per
 * server (guarded by an advisory lock) and reused afterwards. `close()` drops the instance's
 * databases — unless the instance was started with a fixed `prefix` and `keep`, which makes it
 * persistent: a later start with the same prefix finds its databases and carries on where the
 * previous process stopped (or was killed). The URL's user must be a superuser (or own CREATEDB +
 * CREATEROLE and be a member of the RLS roles).
 */
import { randomBytes, createHash } from 'node:crypto';
import pg from 'pg';
import type { Cluster, Database, QueryOptions, QueryResult, Sql } from './types.js';
import { quoteIdent, sqlState } from './types.js';
import { BOOTSTRAP_VERSION, CONTROL_PLANE_SQL, roleStatements, templateScript } from './bootstrap.js';

const RAW_TYPES = { getTypeParser: () => (value: string) => value };
/** Keep date/time values as PostgreSQL text so they can be rendered with microseconds. */
const TEXT_TIME_OIDS = new Set([1082, 1083, 1114, 1184, 1266, 1186]);
const DEFAULT_TYPES = {
  getTypeParser: (oid: number, format?: string) =>
    TEXT_TIME_OIDS.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, (format ?? 'text') as 'text'),
};
const TEMPLATE_LOCK_KEY = 0x46627545; // 'FbuE'

type PgQueryable = Pick<pg.PoolClient, 'query'>;

function toResult<R>(res: pg.QueryResult): QueryResult<R> {
  return {
    rows: res.rows as R[],
    fields: (res.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })),
    rowCount: res.rowCount ?? 0,
  };
}

async function runQuery<R>(client: PgQueryable, text: string, params: unknown[] | undefined, options?: QueryOptions): Promise<QueryResult<R>> {
  const res = await client.query({
    text,
    values: params,
    rowMode: options?.raw ? 'array' : undefined,
    // raw mode serves /sql/execute: one statement per call over the extended protocol, as pgx does
    queryMode: options?.raw ? 'extended' : undefined,
    types: options?.raw ? RAW_TYPES : DEFAULT_TYPES,
  } as pg.QueryConfig);
  return toResult<R>(res);
}

/**
 * An open transaction. `BEGIN` is sent with the first statement: on its own, or in the same
 * simple-protocol message as a statement run with {@link QueryOptions.withBegin} (no
 * parameters), which saves a round trip. Nothing can tell the two apart: BEGIN has no effect of
 * its own until the next statement, and a flagged statement is always a fixed one of the
 * emulator's (it parses, so BEGIN has run before it executes, as it would have alone).
 */
class PgTransaction implements Sql {
  /** Whether BEGIN has been sent. */
  begun = false;
  constructor(private readonly client: PgQueryable) {}

  /** Sends BEGIN unless already sent. */
  async begin(): Promise<void> {
    if (this.begun) return;
    this.begun = true;
    await this.client.query('BEGIN');
  }

  async query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    if (!this.begun && options?.withBegin && !options.raw && (params === undefined || params.length === 0)) {
      this.begun = true;
      const res = (await this.client.query({ text: `BEGIN;${text}`, types: DEFAULT_TYPES } as pg.QueryConfig)) as unknown as pg.QueryResult[];
      return toResult<R>(res[res.length - 1]!);
    }
    await this.begin();
    return runQuery<R>(this.client, text, params, options);
  }

  async exec(text: string): Promise<void> {
    await this.begin();
    await this.client.query(text);
  }
}

class PgDatabase implements Database {
  readonly pool: pg.Pool;
  constructor(readonly name: string, connectionString: string) {
    this.pool = new pg.Pool({ connectionString, max: 4, idleTimeoutMillis: 10_000, options: '-c TimeZone=UTC' });
    this.pool.on('error', () => {
      /* idle client errors (e.g. database dropped) are not fatal */
    });
  }
  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return this.withClient((client) => runQuery<R>(client, text, params, options));
  }
  async exec(text: string): Promise<void> {
    await this.withClient((client) => client.query(text));
  }

  /**
   * Runs `fn` on a pooled connection. Unlike `pool.query`, which closes the connection after any
   * error, a statement that failed with a server error on a connection back in the idle state
   * (no transaction open) keeps the connection: `DISCARD ALL` resets it to the state of a new
   * one (settings, roles, temporary tables, session locks, prepared statements), so reusing it is
   * indistinguishable from reconnecting — without the new backend each failed statement cost.
   * Connection-level errors, and errors leaving a transaction open, still close it.
   */
  private async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const onError = (e: Error) => {
      broken ??= e;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (e) {
      if (broken === undefined && e instanceof pg.DatabaseError) {
        // DISCARD ALL fails inside a (failed) transaction block, so its success also tells that
        // the connection is idle again.
        try {
          await client.query('DISCARD ALL');
          if (client.getTransactionStatus() !== 'I') broken = e as Error;
        } catch (reset) {
          broken = reset as Error;
        }
      } else {
        broken ??= e as Error;
      }
      throw e;
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    const tx = new PgTransaction(client);
    try {
      const out = await fn(tx);
      await tx.begin();
      await client.query('COMMIT');
      return out;
    } catch (e) {
      try {
        // a transaction whose BEGIN was never sent has nothing to roll back
        if (tx.begun) await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw e;
    } finally {
      client.release(broken);
    }
  }
  close(): Promise<void> {
    return this.pool.end();
  }
}

/** Replaces the database name of a connection URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

function randomPrefix(): string {
  return `fbemu_${randomBytes(4).toString('hex')}_`;
}

/**
 * Thrown by {@link PgCluster.close} when the server could not be asked which of this instance's
 * databases exist (it went away, say): they may be left on it, named `<prefix>…`.
 */
export class DatabasesLeftError extends Error {
  /** Why the server could not be asked (the driver's message). */
  readonly reason: string;

  constructor(
    readonly prefix: string,
    cause: unknown,
  ) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`could not drop this run's databases (${prefix}*): ${reason}`, { cause });
    this.name = 'DatabasesLeftError';
    this.reason = reason;
  }
}

export interface PgClusterOptions {
  databaseUrl: string;
  /** Database-name prefix (default: `fbemu_<random>_`). */
  prefix?: string;
  /** Keep the databases when closed, so a start with the same prefix resumes them (default false). */
  keep?: boolean;
  log?: (line: string) => void;
}

/** See the module comment. Create with {@link PgCluster.start}. */
/** See {@link PgCluster.MIN_MAJOR}. */
const MIN_SERVER_MAJOR = 17;

export class PgCluster implements Cluster {
  readonly kind = 'postgres' as const;
  /**
   * True when a start with a fixed prefix found its databases (a restart: the server's start-up
   * work on them runs, F1); false for databases created fresh.
   */
  restarted = false;
  private readonly dbs = new Map<string, PgDatabase>();
  private mainDb!: PgDatabase;
  private readonly admin: pg.Pool;

  private constructor(
    private readonly url: string,
    readonly prefix: string,
    private readonly log: (l: string) => void,
    private readonly keep: boolean,
  ) {
    this.admin = new pg.Pool({ connectionString: url, max: 2 });
    this.admin.on('error', () => {});
  }

  /** The oldest PostgreSQL the real server runs on (F4: its schema files grant MAINTAIN, new in 17). */
  static readonly MIN_MAJOR = MIN_SERVER_MAJOR;

  /** Connects, ensures roles and the template, and creates this instance's main database (or finds it again, with a fixed prefix). */
  static async start(opts: PgClusterOptions): Promise<PgCluster> {
    const cluster = new PgCluster(opts.databaseUrl, opts.prefix ?? randomPrefix(), opts.log ?? (() => {}), opts.keep ?? false);
    try {
      const version = await cluster.admin.query<{ v: string }>("SELECT current_setting('server_version_num') AS v");
      const major = Math.floor(Number(version.rows[0]?.v ?? 0) / 10000);
      if (major < MIN_SERVER_MAJOR) {
        throw new Error(
          `the PostgreSQL server at --database-url is version ${major}; Fluxbase needs PostgreSQL ${MIN_SERVER_MAJOR} or newer ` +
            '(its schema files grant MAINTAIN; its images run 18), so the emulator does too',
        );
      }
      await cluster.ensureRoles();
      const template = await cluster.ensureTemplate();
      const mainName = `${cluster.prefix}main`;
      cluster.restarted = opts.prefix !== undefined && (await cluster.exists(mainName));
      if (!cluster.restarted) await cluster.admin.query(`CREATE DATABASE ${quoteIdent(mainName)} TEMPLATE ${quoteIdent(template)}`);
      cluster.mainDb = cluster.connect(mainName);
      await cluster.mainDb.exec(CONTROL_PLANE_SQL);
      cluster.templateName = template;
      return cluster;
    } catch (e) {
      await cluster.close().catch(() => {});
      throw e;
    }
  }

  private templateName = '';

  get main(): Database {
    return this.mainDb;
  }

  private connect(name: string): PgDatabase {
    let db = this.dbs.get(name);
    if (!db) {
      db = new PgDatabase(name, withDatabase(this.url, name));
      this.dbs.set(name, db);
    }
    return db;
  }

  /** Creates the RLS roles if missing; a concurrent creator winning the race is fine. */
  private async ensureRoles(): Promise<void> {
    for (const stmt of roleStatements()) {
      try {
        await this.admin.query(stmt);
      } catch (e) {
        const code = sqlState(e);
        if (code !== '42710' && code !== '23505' && code !== 'XX000') throw e;
      }
    }
  }

  /** Builds `fbemu_tpl_<version>` once per server under an advisory lock; returns its name. */
  private async ensureTemplate(): Promise<string> {
    const name = `fbemu_tpl_${BOOTSTRAP_VERSION}`;
    const client = await this.admin.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
      const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (found.rowCount === 0) {
        const building = `${name}_build_${randomBytes(3).toString('hex')}`;
        this.log(`building template database ${name}`);
        await client.query(`CREATE DATABASE ${quoteIdent(building)}`);
        const tmp = new pg.Client({ connectionString: withDatabase(this.url, building) });
        await tmp.connect();
        try {
          await tmp.query(templateScript(false));
        } finally {
          await tmp.end();
        }
        await client.query(`ALTER DATABASE ${quoteIdent(building)} RENAME TO ${quoteIdent(name)}`);
      }
      return name;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]).catch(() => {});
      client.release();
    }
  }

  physicalName(logicalName: string): string {
    const full = `${this.prefix}${logicalName}`;
    if (full.length <= 63) return full;
    const hash = createHash('sha256').update(logicalName).digest('hex').slice(0, 8);
    return `${this.prefix}${logicalName.slice(0, 63 - this.prefix.length - 9)}_${hash}`;
  }

  async exists(physicalName: string): Promise<boolean> {
    const r = await this.admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [physicalName]);
    return (r.rowCount ?? 0) > 0;
  }

  async open(physicalName: string): Promise<Database> {
    if (physicalName === this.mainDb.name) return this.mainDb;
    if (this.dbs.has(physicalName)) return this.opening.get(physicalName) ?? this.dbs.get(physicalName)!;
    if (!(await this.exists(physicalName))) throw new Error(`database "${physicalName}" does not exist`);
    if (this.dbs.has(physicalName)) return this.opening.get(physicalName) ?? this.dbs.get(physicalName)!;
    const db = this.connect(physicalName);
    if (!this.onReopen) return db;
    // A database this process did not create: a restart's start-up work runs on it first.
    const ready = this.onReopen(physicalName, db).then(() => db);
    this.opening.set(physicalName, ready);
    return ready.finally(() => this.opening.delete(physicalName));
  }

  /** Called once for each persisted database when this process first opens it (Cluster.onReopen). */
  onReopen?: (physicalName: string, db: Database) => Promise<void>;
  private readonly opening = new Map<string, Promise<PgDatabase>>();

  async create(physicalName: string): Promise<Database> {
    // CREATE DATABASE … TEMPLATE fails while another session is connected to the template;
    // templates are never connected to after being built, but retry briefly anyway.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.admin.query(`CREATE DATABASE ${quoteIdent(physicalName)} TEMPLATE ${quoteIdent(this.templateName)}`);
        break;
      } catch (e) {
        if (sqlState(e) === '55006' && attempt < 20) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        throw e;
      }
    }
    return this.connect(physicalName);
  }

  async drop(physicalName: string): Promise<void> {
    const db = this.dbs.get(physicalName);
    if (db) {
      this.dbs.delete(physicalName);
      await db.close().catch(() => {});
    }
    await this.admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(physicalName)} WITH (FORCE)`);
  }

  async close(): Promise<void> {
    const all = [...this.dbs.values()];
    this.dbs.clear();
    await Promise.all(all.map((d) => d.close().catch(() => {})));
    if (this.keep) {
      await this.admin.end().catch(() => {});
      return;
    }
    try {
      const r = await this.admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [this.prefix]).catch((e: unknown) => {
        throw new DatabasesLeftError(this.prefix, e);
      });
      for (const row of r.rows) {
        await this.admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(row.datname)} WITH (FORCE)`).catch(() => {});
      }
    } finally {
      await this.admin.end().catch(() => {});
    }
  }
}
