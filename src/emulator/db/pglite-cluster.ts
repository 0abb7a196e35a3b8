/**
 * Backend (a): embedded PGlite (PostgreSQL compiled to WebAssembly), in memory or persisted.
 *
 * One PGlite instance per database (PGlite is single-database), started lazily: a tenant database
 * costs nothing until a request routes to it. An instance takes seconds and hundreds of MB to
 * initialise, so the bootstrapped template is built once, dumped with `dumpDataDir()` and every
 * database is started from that tarball (`loadDataDir`), which is several times faster. The
 * tarball is cached in memory for the process and on disk under the OS temp directory.
 *
 * Layout with `dataDir`: `<dataDir>/databases/<name>/` per database; reopening the same `dataDir`
 * finds the main database and every tenant database again.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
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

class PgliteDatabase implements Database {
  constructor(readonly name: string, readonly pg: PGlite) {}
  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
    return runQuery<R>(this.pg, text, params, options);
  }
  async exec(text: string): Promise<void> {
    await this.pg.exec(text);
  }
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    let result: { value: T } | undefined;
    try {
      await this.pg.transaction(async (tx) => {
        result = { value: await fn(new PgliteSql(tx)) };
      });
    } catch (e) {
      // PGlite reports a COMMIT that rolled back (aborted transaction) as an error; PostgreSQL
      // and the real server's pgx treat it as a silent rollback.
      if (result && e instanceof TransactionAbortedError) return result.value;
      throw e;
    }
    return (result as { value: T }).value;
  }
  close(): Promise<void> {
    return this.pg.close();
  }
}

let templatePromise: Promise<Blob> | undefined;

/** Path of the on-disk template cache for this bootstrap version. */
export function pgliteTemplateCachePath(): string {
  return join(tmpdir(), 'fluxbase-emulator', `pglite-template-${BOOTSTRAP_VERSION}.tar`);
}

async function buildTemplate(log: (l: string) => void): Promise<Blob> {
  const cachePath = pgliteTemplateCachePath();
  try {
    const buf = await readFile(cachePath);
    return new Blob([buf]);
  } catch {
    /* not cached yet */
  }
  log('building PGlite template (first run; cached afterwards)');
  const pg = await PGlite.create();
  try {
    await pg.exec(templateScript(true));
    const blob = await pg.dumpDataDir('none');
    const bytes = Buffer.from(await blob.arrayBuffer());
    await mkdir(join(tmpdir(), 'fluxbase-emulator'), { recursive: true });
    const tmp = `${cachePath}.${process.pid}.${Date.now()}`;
    await writeFile(tmp, bytes);
    await rename(tmp, cachePath);
    return new Blob([bytes]);
  } finally {
    await pg.close();
  }
}

/** The bootstrapped template tarball (built once per process, cached on disk). */
export function pgliteTemplate(log: (l: string) => void = () => {}): Promise<Blob> {
  templatePromise ??= buildTemplate(log).catch((e) => {
    templatePromise = undefined;
    throw e;
  });
  return templatePromise;
}

export interface PgliteClusterOptions {
  dataDir?: string;
  log?: (line: string) => void;
}

/** See the module comment. Create with {@link PgliteCluster.start}. */
export class PgliteCluster implements Cluster {
  readonly kind = 'pglite' as const;
  private readonly instances = new Map<string, Promise<PgliteDatabase>>();
  private mainDb!: PgliteDatabase;
  restarted = false;
  /** Run once on every persisted tenant database when this process first opens it (a restart). */
  onReopen?: (name: string, db: Database) => Promise<void>;

  private constructor(private readonly dataDir: string | undefined, private readonly log: (l: string) => void) {}

  /** Starts (or reopens, with a persisted `dataDir`) the main database. */
  static async start(opts: PgliteClusterOptions): Promise<PgliteCluster> {
    const cluster = new PgliteCluster(opts.dataDir, opts.log ?? (() => {}));
    const mainName = 'main';
    const existing = cluster.dataDir !== undefined && existsSync(join(cluster.dirOf(mainName), 'PG_VERSION'));
    const main = existing ? await cluster.open(mainName) : await cluster.create(mainName);
    cluster.restarted = existing;
    cluster.mainDb = main as PgliteDatabase;
    // idempotent: also brings a persisted main database up to this version's control plane
    await main.exec(CONTROL_PLANE_SQL);
    return cluster;
  }

  get main(): Database {
    return this.mainDb;
  }

  private dirOf(name: string): string {
    return join(this.dataDir ?? '', 'databases', name);
  }

  physicalName(logicalName: string): string {
    return logicalName;
  }

  async exists(name: string): Promise<boolean> {
    if (this.instances.has(name)) return true;
    return this.dataDir !== undefined && existsSync(join(this.dirOf(name), 'PG_VERSION'));
  }

  open(name: string): Promise<Database> {
    const running = this.instances.get(name);
    if (running) return running;
    if (this.dataDir === undefined || !existsSync(join(this.dirOf(name), 'PG_VERSION'))) {
      return Promise.reject(new Error(`database "${name}" does not exist`));
    }
    const started = Date.now();
    const p = PGlite.create({ dataDir: this.dirOf(name) }).then(async (pg) => {
      this.log(`started PGlite database ${name} in ${Date.now() - started} ms`);
      const db = new PgliteDatabase(name, pg);
      if (this.onReopen) await this.onReopen(name, db);
      return db;
    });
    this.track(name, p);
    return p;
  }

  async create(name: string): Promise<Database> {
    if (await this.exists(name)) throw new Error(`database "${name}" already exists`);
    const template = await pgliteTemplate(this.log);
    const started = Date.now();
    let p: Promise<PgliteDatabase>;
    if (this.dataDir === undefined) {
      p = PGlite.create({ loadDataDir: template }).then((pg) => new PgliteDatabase(name, pg));
    } else {
      const dir = this.dirOf(name);
      p = mkdir(dir, { recursive: true })
        .then(() => PGlite.create({ dataDir: dir, loadDataDir: template }))
        .then((pg) => new PgliteDatabase(name, pg));
    }
    this.track(name, p);
    const db = await p;
    this.log(`created PGlite database ${name} in ${Date.now() - started} ms`);
    return db;
  }

  private track(name: string, p: Promise<PgliteDatabase>): void {
    this.instances.set(name, p);
    p.catch(() => {
      if (this.instances.get(name) === p) this.instances.delete(name);
    });
  }

  async drop(name: string): Promise<void> {
    const p = this.instances.get(name);
    this.instances.delete(name);
    if (p) await p.then((d) => d.close()).catch(() => {});
    if (this.dataDir !== undefined) await rm(this.dirOf(name), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    const all = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(all.map((p) => p.then((d) => d.close()).catch(() => {})));
  }
}
