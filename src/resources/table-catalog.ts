/**
 * Live table structure read from PostgreSQL's catalogs through POST /api/v1/admin/sql/execute,
 * one call per tenant. The DDL introspection endpoints cannot be used for this: GET /tables
 * loses type modifiers (`character varying` for varchar(255)), reports arrays as "ARRAY", never
 * reports unique or check constraints (`is_unique` is always false), silently omits schemas with
 * mixed-case names, and lists either one schema per call or every internal schema too
 * (shared/fluxbase-api auth-tenants §5.3, §5.5). The catalog query returns one row holding a
 * JSON document, so the endpoint's 1000-row limit never truncates it; catalogs are readable by
 * the `authenticated` role /sql/execute runs as.
 */
import { ApiError } from '../client/errors.js';
import type { FluxbaseClient } from '../client/http.js';
import { INTERNAL_SCHEMAS, quoteLiteral } from '../sql/identifiers.js';

/** One column as the catalog describes it. */
export interface CatalogColumn {
  name: string;
  /** format_type(atttypid, atttypmod), e.g. `character varying(255)`. */
  type: string;
  not_null: boolean;
  /** pg_get_expr of the default, e.g. `'draft'::text`, or null. */
  default: string | null;
}

/** A primary key (p), unique (u), foreign key (f) or check (c) constraint. */
export interface CatalogConstraint {
  name: string;
  type: 'p' | 'u' | 'f' | 'c';
  columns: string[] | null;
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[] | null;
  /** confdeltype/confupdtype: a = NO ACTION, r = RESTRICT, c = CASCADE, n = SET NULL, d = SET DEFAULT. */
  on_delete: string | null;
  on_update: string | null;
  check: string | null;
  /** convalidated: false for a constraint added NOT VALID and not validated since. */
  validated?: boolean;
}

/** A secondary index that does not back a constraint. */
export interface CatalogIndex {
  name: string;
  unique: boolean;
  /** Column names in order; null entries for expression columns. */
  columns: (string | null)[];
  partial: boolean;
  definition: string;
}

/** One table. */
export interface CatalogTable {
  schema: string;
  name: string;
  rls_enabled: boolean;
  rls_forced: boolean;
  /**
   * The owning role (`pg_get_userbyid(relowner)`): who may ALTER the table (F2); it bypasses RLS
   * unless `rls_forced`, and needs no grant.
   */
  owner: string;
  columns: CatalogColumn[];
  constraints: CatalogConstraint[] | null;
  indexes: CatalogIndex[] | null;
  /**
   * Privileges granted directly on the table (its ACL, or PostgreSQL's default ACL when none was
   * ever set), by grantee: every role of the cluster but the `pg_*` ones, the owner included, with
   * the subset of SELECT, INSERT, UPDATE, DELETE it holds (possibly empty); `public` for PUBLIC.
   * Privileges through role membership are not included.
   */
  grants?: Record<string, string[]>;
}

/**
 * The catalog query: every ordinary or partitioned table outside Fluxbase's internal schemas,
 * plus those in the internal schemas named in `include` (declared or managed by the config).
 */
export function catalogQuery(include: ReadonlySet<string>): string {
  const extra = [...include].filter((s) => INTERNAL_SCHEMAS.has(s)).sort();
  const inInternal = extra.length > 0 ? ` OR n.nspname IN (${extra.map(quoteLiteral).join(', ')})` : '';
  return CATALOG_QUERY.replace('/*INCLUDE*/', inInternal);
}

const CATALOG_QUERY = `SELECT coalesce(json_agg(t ORDER BY t.schema, t.name), '[]'::json) AS tables FROM (
  SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
    pg_get_userbyid(c.relowner) AS owner,
    (SELECT coalesce(json_object_agg(r.rolname, coalesce(p.privs, '[]'::json) ORDER BY r.rolname), '{}'::json)
       FROM (SELECT oid, rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' UNION ALL SELECT 0::oid, 'public'::name) r
       LEFT JOIN LATERAL (SELECT json_agg(DISTINCT e.privilege_type ORDER BY e.privilege_type) AS privs
                            FROM aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) e
                           WHERE e.grantee = r.oid AND e.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')) p ON true) AS grants,
    (SELECT coalesce(json_agg(json_build_object('name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
        'not_null', a.attnotnull, 'default', pg_get_expr(d.adbin, d.adrelid)) ORDER BY a.attnum), '[]'::json)
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
    (SELECT json_agg(json_build_object('name', con.conname, 'type', con.contype,
        'columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
        'ref_schema', fn.nspname, 'ref_table', fc.relname,
        'ref_columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum),
        'on_delete', CASE WHEN con.contype = 'f' THEN con.confdeltype END,
        'on_update', CASE WHEN con.contype = 'f' THEN con.confupdtype END,
        'check', CASE WHEN con.contype = 'c' THEN pg_get_expr(con.conbin, con.conrelid) END,
        'validated', con.convalidated) ORDER BY con.conname)
       FROM pg_constraint con LEFT JOIN pg_class fc ON fc.oid = con.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE con.conrelid = c.oid AND con.contype IN ('p', 'u', 'f', 'c')) AS constraints,
    (SELECT json_agg(json_build_object('name', ic.relname, 'unique', i.indisunique,
        'columns', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                      LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum),
        'partial', i.indpred IS NOT NULL, 'definition', pg_get_indexdef(i.indexrelid)) ORDER BY ic.relname)
       FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
      WHERE i.indrelid = c.oid AND NOT EXISTS (SELECT 1 FROM pg_constraint x WHERE x.conindid = i.indexrelid AND x.conrelid = c.oid)) AS indexes
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p')
    AND ((n.nspname NOT IN (${[...INTERNAL_SCHEMAS].sort().map(quoteLiteral).join(', ')})
    AND n.nspname NOT LIKE 'pg\\_%')/*INCLUDE*/)
    AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = 'pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')
) t`;

/** /sql/execute result entry (shared/fluxbase-api auth-tenants §7). */
interface SqlResult {
  rows?: Record<string, unknown>[];
  error?: string;
}

/**
 * Reads every user table of a tenant. Throws ApiError when /sql/execute reports a per-statement
 * error (it answers 200 even then).
 */
export async function readCatalog(client: FluxbaseClient, tenantId: string, include: ReadonlySet<string>): Promise<CatalogTable[]> {
  const res = await client.request<{ results: SqlResult[] }>({
    method: 'POST',
    route: '/api/v1/admin/sql/execute',
    tenantId,
    body: { query: catalogQuery(include) },
    expect: [200],
    // A read: no Idempotency-Key, so the server stores no copy of the catalog (F10).
    idempotency: 'read',
  });
  const result = res.body.results?.[0];
  if (!result || result.error) {
    throw new ApiError({
      status: 200,
      body: { error: `catalog query failed: ${result?.error ?? 'no result'}` },
      method: 'POST',
      path: '/api/v1/admin/sql/execute',
    });
  }
  const value = result.rows?.[0]?.tables;
  const tables = typeof value === 'string' ? (JSON.parse(value) as CatalogTable[]) : ((value ?? []) as CatalogTable[]);
  return tables;
}

/** A data type of the tenant's database outside pg_catalog (an extension's, an enum, a domain…). */
export interface CatalogType {
  schema: string;
  name: string;
}

const TYPES_QUERY = `SELECT coalesce(json_agg(json_build_object('schema', n.nspname, 'name', t.typname) ORDER BY n.nspname, t.typname), '[]'::json) AS types
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' AND t.typisdefined
    AND (t.typtype IN ('b', 'd', 'e', 'r', 'm') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')))
    AND NOT (t.typelem <> 0 AND t.typcategory = 'A' AND left(t.typname, 1) = '_')`;

/**
 * Whether each table's storage is not empty (`pg_relation_size` > 0: it holds rows, or did and
 * was not truncated). pg_relation_size takes a share lock on each table, so it is asked only for
 * the tables that need it, after a short lock_timeout; a table that stays locked reads as unknown.
 */
function dataQuery(tables: readonly string[]): string {
  const list = tables.map((t) => quoteLiteral(t)).join(', ');
  // Looked up through the catalogs (no USAGE on the schema needed), not with ::regclass.
  return `SELECT json_object_agg(n.nspname || '.' || c.relname, pg_relation_size(c.oid) > 0) AS data
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname || '.' || c.relname = ANY (ARRAY[${list}]::text[])`;
}

/** What {@link readPreflight} found; a part not asked for is absent. */
export interface PreflightFacts {
  types?: CatalogType[];
  /** By `schema.table`; absent when it could not be read. */
  hasData?: Record<string, boolean>;
}

/**
 * The facts planning checks before any change, read with one POST /api/v1/admin/sql/execute:
 * the database's types outside pg_catalog (when `types`), and whether `tables` hold data.
 * Throws ApiError when the types cannot be read.
 */
export async function readPreflight(client: FluxbaseClient, tenantId: string, req: { types: boolean; tables: readonly string[] }): Promise<PreflightFacts> {
  const statements = [...(req.types ? [TYPES_QUERY] : []), ...(req.tables.length > 0 ? ["SET LOCAL lock_timeout = '2s'", dataQuery(req.tables)] : [])];
  const res = await client.request<{ results: SqlResult[] }>({
    method: 'POST',
    route: '/api/v1/admin/sql/execute',
    tenantId,
    body: { query: statements.join(';\n') },
    expect: [200],
  });
  const results = res.body.results ?? [];
  const value = (r: SqlResult | undefined, key: string) => {
    const v = r?.rows?.[0]?.[key];
    return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  };
  const facts: PreflightFacts = {};
  if (req.types) {
    const r = results[0];
    if (!r || r.error) throw new ApiError({ status: 200, body: { error: `type query failed: ${r?.error ?? 'no result'}` }, method: 'POST', path: '/api/v1/admin/sql/execute' });
    facts.types = (value(r, 'types') ?? []) as CatalogType[];
  }
  if (req.tables.length > 0) {
    const r = results[results.length - 1];
    if (r && !r.error) facts.hasData = (value(r, 'data') ?? {}) as Record<string, boolean>;
  }
  return facts;
}
