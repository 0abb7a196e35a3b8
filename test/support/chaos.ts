/**
 * Pieces of the chaos harness (test/e2e/chaos.test.ts): a seeded random source, the multi-tenant
 * configurations the trials move between, and an observer that watches the emulator's databases
 * for a table without row-level security.
 */
import pg from 'pg';
import { stringify } from 'yaml';

/** A seeded random source (mulberry32): the same seed gives the same trial. */
export function rng(seed: number): { next: () => number; int: (n: number) => number; pick: <T>(xs: readonly T[]) => T; chance: (p: number) => boolean } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (xs) => xs[Math.floor(next() * xs.length)]!, chance: (p) => next() < p };
}

/** The tenants every chaos configuration declares besides the default one. */
export const CHAOS_TENANTS = ['acme', 'globex'] as const;

type R = ReturnType<typeof rng>;

function table(r: R, name: string, extraColumn: boolean): Record<string, unknown> {
  const policies: Record<string, unknown> = {};
  if (r.chance(0.7)) policies[`${name}_read`] = { command: 'SELECT', roles: ['authenticated'], using: r.pick(['true', 'id > 0']) };
  if (r.chance(0.5)) policies[`${name}_insert`] = { command: 'INSERT', roles: ['authenticated'], with_check: 'true' };
  return {
    columns: {
      id: { type: 'bigint', primary_key: true },
      body: { type: 'text' },
      ...(extraColumn && r.chance(0.5) ? { extra: { type: 'integer' } } : {}),
    },
    rls: { enabled: true, ...(Object.keys(policies).length > 0 ? { policies } : {}) },
  };
}

function tenantContent(r: R, prefix: string, tables: string[], extraColumns: boolean): Record<string, unknown> {
  const chosen = Object.fromEntries(tables.filter(() => r.chance(0.7)).map((t) => [`${prefix}_${t}`, table(r, `${prefix}_${t}`, extraColumns)]));
  const webhooks: Record<string, unknown> = {};
  if (r.chance(0.75)) webhooks[`${prefix}-hook`] = { url: `https://93.184.216.34/${r.pick(['a', 'b', 'c'])}`, enabled: r.chance(0.8) };
  const keys: Record<string, unknown> = {};
  if (r.chance(0.7)) keys[`${prefix}_key`] = { scopes: ['*'], enabled: r.chance(0.8) };
  if (r.chance(0.5)) keys[`${prefix}_rotating`] = { scopes: ['*'], rate_limit_per_minute: r.pick([60, 120]) };
  return {
    ...(Object.keys(chosen).length > 0 ? { schemas: { public: { tables: chosen } } } : {}),
    ...(Object.keys(webhooks).length > 0 ? { webhooks } : {}),
    ...(Object.keys(keys).length > 0 ? { service_keys: keys } : {}),
  };
}

/**
 * One configuration of the chaos family: the default tenant and two others, each with a random
 * subset of tables (in `public`, RLS on, with policies), a webhook and service keys. Moving from
 * one to the next creates, updates, replaces (a key's rate limit: the server's PUT is broken) and
 * deletes resources of every kind. Non-default tenants keep to what works there (F2, F3): tables
 * in `public` with DDL types, no indexes or constraints, no realtime.
 */
export function chaosConfig(seed: number): string {
  const r = rng(seed);
  const tenants: Record<string, unknown> = { default: tenantContent(r, 'd', ['notes', 'tasks', 'files'], true) };
  for (const slug of CHAOS_TENANTS) {
    tenants[slug] = { metadata: { tier: r.pick(['gold', 'silver']) }, ...tenantContent(r, slug.slice(0, 1), ['items', 'orders'], false) };
  }
  return stringify({ version: 1, tenants });
}

/** The configuration a lane starts from: the tenants only. */
export function chaosBaseConfig(): string {
  return stringify({ version: 1, tenants: { default: {}, ...Object.fromEntries(CHAOS_TENANTS.map((t) => [t, { metadata: { tier: 'gold' } }])) } });
}

/** A table seen without row-level security. */
export interface Exposure {
  database: string;
  table: string;
  /** What the lane was doing (e.g. `trial 7`). */
  during: string;
}

/**
 * Polls databases for tables in `public` without row-level security (every chaos table declares
 * it), every `intervalMs`, until stopped. Databases that do not exist yet are skipped.
 */
export class RlsObserver {
  readonly exposures: Exposure[] = [];
  polls = 0;
  during = 'setup';
  private readonly clients = new Map<string, pg.Client>();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly databaseUrl: string,
    private readonly databases: string[],
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.check();
        await new Promise((r) => setTimeout(r, this.intervalMs));
      }
    })();
  }

  /** Checks every database once now. */
  async check(): Promise<void> {
    this.polls++;
    for (const name of this.databases) {
      const client = await this.client(name);
      if (!client) continue;
      try {
        const { rows } = await client.query<{ relname: string }>(
          "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = 'public' AND NOT c.relrowsecurity",
        );
        for (const row of rows) {
          if (!this.exposures.some((e) => e.database === name && e.table === row.relname && e.during === this.during)) {
            this.exposures.push({ database: name, table: row.relname, during: this.during });
          }
        }
      } catch {
        this.clients.delete(name);
        await client.end().catch(() => undefined);
      }
    }
  }

  private async client(name: string): Promise<pg.Client | undefined> {
    const known = this.clients.get(name);
    if (known) return known;
    const url = new URL(this.databaseUrl);
    url.pathname = `/${name}`;
    const client = new pg.Client({ connectionString: url.toString() });
    client.on('error', () => this.clients.delete(name));
    try {
      await client.connect();
    } catch {
      return undefined;
    }
    this.clients.set(name, client);
    return client;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    for (const c of this.clients.values()) await c.end().catch(() => undefined);
    this.clients.clear();
  }
}
