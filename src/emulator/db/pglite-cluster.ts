/**
 * Backend (a): embedded PGlite (PostgreSQL compiled to WebAssembly), in memory or persisted.
 *
 * One PGlite instance per database (PGlite is single-database). Memory is what limits how many
 * tenants an emulator can hold, so:
 * - every database lives in a directory on disk (PGlite's NODEFS): `<dataDir>/databases/<name>/`
 *   with `dataDir`, else a private temporary directory removed by `close()` ("in memory" means
 *   nothing is kept, not that the files sit in the JavaScript heap: in-heap files cost ~50 MB
 *   per database);
 * - PostgreSQL runs with `shared_buffers=8MB` (PGlite keeps PostgreSQL's 128 MB default, which
 *   each instance touches as it runs);
 * - a tenant database starts with its first query, and at most `maxRunning` tenant databases run
 *   at once: the least recently used idle one is stopped (and started again by its next query).
 * A running instance costs ~40–60 MB resident, a stopped one nothing.
 *
 * Creating a database is a copy of a bootstrapped template directory, built once per bootstrap
 * version and cached under the OS temp directory (building takes seconds; copying milliseconds).
 * Reopening the same `dataDir` finds the main database and every tenant database again.
 */
import { constants, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, TransactionAbortedError } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import type { Cluster, Database, QueryOptions, QueryResult, Sql } from './types.js';
import { BOOTSTRAP_VERSION, CONTROL_PLANE_SQL, templateScript } from './bootstrap.js';

type Runner = Pick<PGlite, 'query' | 'exec'> | Transaction;

const TEXT_TIME_OIDS = [1082, 1083, 1114, 1184, 1266, 1186];
const identity = (v: string): string => v;
const DEFAULT_PARSERS: Record<number, (v: string) => unknown> = Object.fromEntries(TEXT_TIME_OIDS.map((o) => [o, identity]));
/** Identity parsers for every built-in type OID, so raw mode gets PostgreSQL's text output. */
const RAW_PARSERS: Record<number, (v: string) => unknown> = (() => {
  const out: Record<number, (v: string) => unknown> = {};
  for (let oid = 1; oid < 10_000; oid++) out[oid] = identity;
  return out;
})();

async function runQuery<R>(runner: Runner, text: string, params: unknown[] | undefined, options?: QueryOptions): Promise<QueryResult<R>> {
  const res = await runner.query<R>(text, params ?? [], {
    rowMode: options?.raw ? 'array' : 'object',
    parsers: options?.raw ? RAW_PARSERS : DEFAULT_PARSERS,
  });
  const fields = res.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
  const rowCount = fields.length > 0 ? res.rows.length : (res.affectedRows ?? 0);
  return { rows: res.rows, fields, rowCount };
}

class PgliteSql implements Sql {
  constructor(private readonly runner: Runner) {}
  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return runQuery<R>(this.runner, text, params, options);
  }
  async exec(text: string): Promise<void> {
    await this.runner.exec(text);
  }
}

/** PostgreSQL settings of every instance (see the module comment). */
const START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=8MB', '-c', 'maintenance_work_mem=16MB'];

/**
 * One database. Its PGlite instance starts with the first query and can be stopped while idle
 * ({@link PgliteDatabase.stop}); the next query starts it again (~1 s). Callers never see the
 * difference: this object stays valid.
 */
class PgliteDatabase implements Database {
  private pg: PGlite | undefined;
  private starting: Promise<PGlite> | undefined;
  private stopping: Promise<void> | undefined;
  private busy = 0;
  private closed = false;
  lastUsed = 0;

  constructor(
    readonly name: string,
    private readonly dir: string,
    private readonly cluster: { touched(db: PgliteDatabase): void; log: (l: string) => void },
    /** Run once, when the instance first starts in this process (Cluster.onReopen). */
    private firstStart?: (db: PgliteDatabase) => Promise<void>,
  ) {}

  get running(): boolean {
    return this.pg !== undefined || this.starting !== undefined;
  }

  private async use<T>(fn: (pg: PGlite) => Promise<T>): Promise<T> {
    this.busy++;
    try {
      while (this.stopping) await this.stopping;
      if (this.closed) throw new Error(`database "${this.name}" is closed`);
      return await fn(this.pg ?? (await this.start()));
    } finally {
      this.busy--;
      this.lastUsed = Date.now();
      this.cluster.touched(this);
    }
  }

  private start(): Promise<PGlite> {
    this.starting ??= (async () => {
      const started = Date.now();
      const pg = await PGlite.create({ dataDir: this.dir, startParams: START_PARAMS });
      this.pg = pg;
      this.cluster.log(`started PGlite database ${this.name} in ${Date.now() - started} ms`);
      const first = this.firstStart;
      this.firstStart = undefined;
      if (first) await first(this);
      return pg;
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Stops the instance when nothing is using it; its files stay, and the next query restarts it. */
  stop(): Promise<void> {
    if (this.busy > 0 || !this.pg || this.stopping) return this.stopping ?? Promise.resolve();
    const pg = this.pg;
    this.pg = undefined;
    this.stopping = pg
      .close()
      .then(() => this.cluster.log(`stopped idle PGlite database ${this.name}`))
      .finally(() => {
        this.stopping = undefined;
      });
    return this.stopping;
  }

  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return this.use((pg) => runQuery<R>(pg, text, params, options));
  }
  exec(text: string): Promise<void> {
    return this.use(async (pg) => {
      await pg.exec(text);
    });
  }
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return this.use(async (pg) => {
      let result: { value: T } | undefined;
      try {
        await pg.transaction(async (tx) => {
          result = { value: await fn(new PgliteSql(tx)) };
        });
      } catch (e) {
        // PGlite reports a COMMIT that rolled back (aborted transaction) as an error; PostgreSQL
        // and the real server's pgx treat it as a silent rollback.
        if (result && e instanceof TransactionAbortedError) return result.value;
        throw e;
      }
      return (result as { value: T }).value;
    });
  }
  /** Stops the instance for good (waiting for a start or stop under way). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.stopping) await this.stopping;
    const pg = this.pg ?? (this.starting ? await this.starting.catch(() => undefined) : undefined);
    this.pg = undefined;
    await pg?.close();
  }
}

let templatePromise: Promise<string> | undefined;

/** Directory of the cached bootstrapped template for this bootstrap version. */
export function pgliteTemplateCachePath(): string {
  return join(tmpdir(), 'fluxbase-emulator', `pglite-template-${BOOTSTRAP_VERSION}-${TEMPLATE_LAYOUT}`);
}

/** Changes whenever the way the template is built changes (part of its cache name). */
const TEMPLATE_LAYOUT = 'dir-wal1';

/**
 * Builds the template directory (PGlite's initdb, then the bootstrap script) in a private
 * directory and renames it into place, so concurrent processes never see a half-built one.
 */
async function buildTemplate(log: (l: string) => void): Promise<string> {
  const target = pgliteTemplateCachePath();
  if (existsSync(join(target, 'PG_VERSION'))) return target;
  log('building PGlite template (first run; cached afterwards)');
  await mkdir(join(tmpdir(), 'fluxbase-emulator'), { recursive: true });
  const building = await mkdtemp(`${target}.building-`);
  try {
    // 1 MB WAL segments instead of 16 MB: every database is a copy of this directory.
    const pg = await PGlite.create({ dataDir: building, startParams: START_PARAMS, initDbStartParams: ['--wal-segsize=1'] });
    try {
      await pg.exec(templateScript(true));
      await pg.exec('CHECKPOINT');
    } finally {
      await pg.close();
    }
    await rename(building, target).catch((e: NodeJS.ErrnoException) => {
      // another process finished first: use its template
      if (!existsSync(join(target, 'PG_VERSION'))) throw e;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return target;
}

/** The bootstrapped template directory (built once, cached on disk). */
export function pgliteTemplate(log: (l: string) => void = () => {}): Promise<string> {
  templatePromise ??= buildTemplate(log).catch((e) => {
    templatePromise = undefined;
    throw e;
  });
  return templatePromise;
}

/** Removes temporary cluster directories left by processes that died without closing. */
async function removeStaleRunDirs(parent: string): Promise<void> {
  for (const entry of await readdir(parent).catch(() => [] as string[])) {
    const pid = Number(/^run-(\d+)-/.exec(entry)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') await rm(join(parent, entry), { recursive: true, force: true });
    }
  }
}

export interface PgliteClusterOptions {
  /** Keep the databases here; default: a temporary directory removed by `close()`. */
  dataDir?: string;
  log?: (line: string) => void;
  /**
   * Tenant databases running at once (default 3); the least recently used idle one is stopped
   * when another one starts. The main database always runs.
   */
  maxRunning?: number;
}

/** See the module comment. Create with {@link PgliteCluster.start}. */
export class PgliteCluster implements Cluster {
  readonly kind = 'pglite' as const;
  private readonly databases = new Map<string, PgliteDatabase>();
  private mainDb!: PgliteDatabase;
  /** True when the main database existed before this start (a persisted `dataDir`): a restart. */
  restarted = false;
  /** Run once on every persisted tenant database when this process first starts it (a restart). */
  onReopen?: (name: string, db: Database) => Promise<void>;

  private constructor(
    private readonly root: string,
    private readonly temporary: boolean,
    readonly log: (l: string) => void,
    private readonly maxRunning: number,
  ) {}

  /** Starts (or reopens, with a persisted `dataDir`) the main database. */
  static async start(opts: PgliteClusterOptions): Promise<PgliteCluster> {
    let root = opts.dataDir;
    if (root === undefined) {
      const parent = join(tmpdir(), 'fluxbase-emulator');
      await mkdir(parent, { recursive: true });
      await removeStaleRunDirs(parent);
      root = await mkdtemp(join(parent, `run-${process.pid}-`));
    }
    const cluster = new PgliteCluster(root, opts.dataDir === undefined, opts.log ?? (() => {}), opts.maxRunning ?? 3);
    try {
      cluster.restarted = await cluster.exists('main');
      const main = cluster.restarted ? await cluster.open('main') : await cluster.create('main');
      cluster.mainDb = main as PgliteDatabase;
      // idempotent: also brings a persisted main database up to this version's control plane
      await main.exec(CONTROL_PLANE_SQL);
    } catch (e) {
      await cluster.close();
      throw e;
    }
    return cluster;
  }

  get main(): Database {
    return this.mainDb;
  }

  private dirOf(name: string): string {
    return join(this.root, 'databases', name);
  }

  physicalName(logicalName: string): string {
    return logicalName;
  }

  async exists(name: string): Promise<boolean> {
    return this.databases.has(name) || existsSync(join(this.dirOf(name), 'PG_VERSION'));
  }

  async open(name: string): Promise<Database> {
    const known = this.databases.get(name);
    if (known) return known;
    if (!existsSync(join(this.dirOf(name), 'PG_VERSION'))) throw new Error(`database "${name}" does not exist`);
    // a database from before this start: Cluster.onReopen runs when it first starts
    const db = new PgliteDatabase(name, this.dirOf(name), this, name === 'main' ? undefined : (d) => this.onReopen?.(name, d) ?? Promise.resolve());
    this.databases.set(name, db);
    return db;
  }

  async create(name: string): Promise<Database> {
    if (await this.exists(name)) throw new Error(`database "${name}" already exists`);
    const template = await pgliteTemplate(this.log);
    const started = Date.now();
    const dir = this.dirOf(name);
    await mkdir(join(this.root, 'databases'), { recursive: true });
    await cp(template, dir, { recursive: true, mode: constants.COPYFILE_FICLONE });
    const db = new PgliteDatabase(name, dir, this);
    this.databases.set(name, db);
    await db.query('SELECT 1');
    this.log(`created PGlite database ${name} in ${Date.now() - started} ms`);
    return db;
  }

  /**
   * Called after each use of a database: when more tenant databases run than `maxRunning`, the
   * least recently used idle ones are stopped (in the background).
   */
  touched(db: PgliteDatabase): void {
    if (db === this.mainDb) return;
    const running = [...this.databases.values()].filter((d) => d !== this.mainDb && d.running).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const d of running.slice(0, Math.max(0, running.length - this.maxRunning))) {
      d.stop().catch((e: unknown) => this.log(`could not stop PGlite database ${d.name}: ${(e as Error).message}`));
    }
  }

  async drop(name: string): Promise<void> {
    const db = this.databases.get(name);
    this.databases.delete(name);
    await db?.close().catch(() => {});
    await rm(this.dirOf(name), { recursive: true, force: true });
  }

  /** Stops every database; a temporary cluster's files are removed. */
  async close(): Promise<void> {
    const all = [...this.databases.values()];
    this.databases.clear();
    await Promise.all(all.map((d) => d.close().catch(() => {})));
    if (this.temporary) await rm(this.root, { recursive: true, force: true });
  }
}
