/**
 * RLS and policies (`internal/api/policy_handler.go`; auth doc §6). Statements run on the
 * request's database outside an explicit transaction, and errors are returned with the raw
 * PostgreSQL text (kind C body, no code): 400 for create/alter/drop, 500 for the RLS toggle.
 * Expressions come back deparsed by PostgreSQL straight from `pg_policies`.
 *
 * Identifiers go through the server's `quoteIdentifier`, which turns an invalid identifier into
 * the EMPTY string (so the statement fails with a syntax error → 400 with that text).
 */
import type { Ctx } from '../http/context.js';
import type { Sql } from '../db/types.js';
import { pgErrorText } from '../db/types.js';
import { parseBody, sendCode, sendNoCode } from '../http/errors.js';
import { isValidIdentifier, quoteIdentifier } from '../ddl/validation.js';

interface PolicyRow {
  schemaname: string;
  tablename: string;
  policyname: string;
  permissive: string;
  roles: string[] | string;
  cmd: string;
  qual: string | null;
  with_check: string | null;
}

const POLICY_COLUMNS = 'schemaname::text, tablename::text, policyname::text, permissive, roles::text[] AS roles, cmd, qual, with_check';

function rolesOf(v: string[] | string): string[] {
  if (Array.isArray(v)) return v;
  const inner = v.replace(/^\{|\}$/g, '');
  return inner === '' ? [] : inner.split(',').map((s) => s.replace(/^"|"$/g, ''));
}

/** Policy JSON: `{schema, table, policy_name, permissive, roles, command, using, with_check}`. */
function policyJson(p: PolicyRow): Record<string, unknown> {
  return {
    schema: p.schemaname,
    table: p.tablename,
    policy_name: p.policyname,
    permissive: p.permissive,
    roles: rolesOf(p.roles),
    command: p.cmd,
    using: p.qual,
    with_check: p.with_check,
  };
}

function db(ctx: Ctx): Sql {
  if (!ctx.tenant) throw new Error('tenant middleware did not run');
  return ctx.tenant.db;
}

/** GET /policies[?schema=]: all policies except pg_catalog/information_schema (a `table` param is ignored). */
export async function listPolicies(ctx: Ctx): Promise<void> {
  const schema = ctx.q('schema');
  try {
    const r = await db(ctx).query<PolicyRow>(
      `SELECT ${POLICY_COLUMNS} FROM pg_policies
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND ($1::text = '' OR schemaname = $1::text)
        ORDER BY schemaname, tablename, policyname`,
      [schema],
    );
    ctx.json(200, r.rows.map(policyJson));
  } catch (e) {
    sendNoCode(ctx, 500, pgErrorText(e));
  }
}

interface RlsStatus {
  schema: string;
  table: string;
  rls_enabled: boolean;
  rls_forced: boolean;
  policy_count: number;
  policies: Record<string, unknown>[];
  has_warnings: boolean;
}

/** GET /tables/rls[?schema=public]: base and foreign tables, not extension-owned, sorted by name. */
export async function tablesWithRls(ctx: Ctx): Promise<void> {
  const schema = ctx.q('schema', 'public');
  try {
    const tables = await db(ctx).query<{ t: string; rls: boolean; forced: boolean }>(
      `SELECT c.relname::text AS t, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'f') AND c.relname NOT LIKE 'pg_%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e')`,
      [schema],
    );
    const policies = await db(ctx).query<PolicyRow>(`SELECT ${POLICY_COLUMNS} FROM pg_policies WHERE schemaname = $1 ORDER BY tablename, policyname`, [schema]);
    const out: RlsStatus[] = tables.rows.map((t) => {
      const ps = policies.rows.filter((p) => p.tablename === t.t).map(policyJson);
      return {
        schema,
        table: t.t,
        rls_enabled: t.rls,
        rls_forced: t.forced,
        policy_count: ps.length,
        policies: ps,
        has_warnings: (!t.rls && schema === 'public') || (t.rls && ps.length === 0),
      };
    });
    out.sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0));
    ctx.json(200, out);
  } catch (e) {
    sendNoCode(ctx, 500, pgErrorText(e));
  }
}

/** GET /tables/:schema/:table/rls (also wired to GET /policies/:schema/:table/:policy). */
export async function tableRlsStatus(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  const rel = await db(ctx).query<{ rls: boolean; forced: boolean }>(
    `SELECT c.relrowsecurity AS rls, c.relforcerowsecurity AS forced FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 LIMIT 1`,
    [schema, table],
  );
  const row = rel.rows[0];
  if (!row) {
    sendCode(ctx, 404, 'Table not found', 'NOT_FOUND');
    return;
  }
  const ps = await db(ctx).query<PolicyRow>(`SELECT ${POLICY_COLUMNS} FROM pg_policies WHERE schemaname = $1 AND tablename = $2 ORDER BY policyname`, [schema, table]);
  const policies = ps.rows.map((p) => ({ ...policyJson(p), schema, table }));
  ctx.json(200, { schema, table, rls_enabled: row.rls, rls_forced: row.forced, policy_count: policies.length, policies, has_warnings: false });
}

/** POST /tables/:schema/:table/rls/toggle `{"enabled":bool}` (omitted = false = DISABLE). */
export async function toggleRls(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  const req = parseBody<{ enabled: boolean }>(ctx, { enabled: 'bool' });
  if (!req) return;
  const rel = await db(ctx).query<{ e: boolean }>(
    `SELECT EXISTS(SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2) AS e`,
    [schema, table],
  );
  if (!rel.rows[0]?.e) {
    sendCode(ctx, 404, 'Table not found', 'NOT_FOUND');
    return;
  }
  try {
    await db(ctx).query(`ALTER TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(table)} ${req.enabled ? 'ENABLE' : 'DISABLE'} ROW LEVEL SECURITY`);
  } catch (e) {
    sendNoCode(ctx, 500, pgErrorText(e));
    return;
  }
  ctx.json(200, { rls_enabled: req.enabled, success: true });
}

const COMMANDS = new Set(['ALL', 'SELECT', 'INSERT', 'UPDATE', 'DELETE']);

/** POST /policies: `permissive` defaults to false → RESTRICTIVE; empty roles → PUBLIC. */
export async function createPolicy(ctx: Ctx): Promise<void> {
  const req = parseBody<{ schema: string; table: string; name: string; command: string; permissive: boolean; roles: string[] | null; using: string; with_check: string }>(ctx, {
    schema: 'string',
    table: 'string',
    name: 'string',
    command: 'string',
    permissive: 'bool',
    roles: '[]string',
    using: 'string',
    with_check: 'string',
  });
  if (!req) return;
  if (req.schema === '' || req.table === '' || req.name === '') {
    sendCode(ctx, 400, 'schema, table, and name are required', 'MISSING_FIELDS');
    return;
  }
  if (!isValidIdentifier(req.name)) {
    sendCode(ctx, 400, 'Invalid policy name: must start with a letter or underscore, followed by letters, digits, or underscores', 'INVALID_NAME');
    return;
  }
  const command = req.command.toUpperCase();
  if (!COMMANDS.has(command)) {
    sendCode(ctx, 400, 'command must be ALL, SELECT, INSERT, UPDATE, or DELETE', 'INVALID_COMMAND');
    return;
  }
  const roles = req.roles && req.roles.length > 0 ? req.roles.map(quoteIdentifier).join(', ') : 'PUBLIC';
  let sql = `CREATE POLICY ${quoteIdentifier(req.name)} ON ${quoteIdentifier(req.schema)}.${quoteIdentifier(req.table)} AS ${req.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${command} TO ${roles}`;
  if (req.using !== '') sql += ` USING (${req.using})`;
  if (req.with_check !== '') sql += ` WITH CHECK (${req.with_check})`;
  try {
    await db(ctx).query(sql);
  } catch (e) {
    sendNoCode(ctx, 400, pgErrorText(e));
    return;
  }
  ctx.json(201, { sql, success: true });
}

/** PUT /policies/:schema/:table/:policy `{"roles"?,"using"?,"with_check"?}` → ALTER POLICY. */
export async function updatePolicy(ctx: Ctx): Promise<void> {
  const schema = ctx.params.schema ?? '';
  const table = ctx.params.table ?? '';
  const policy = ctx.params.policy ?? '';
  const req = parseBody<{ roles: string[] | null; using: string | null; with_check: string | null }>(ctx, {
    roles: '[]string',
    using: '*string',
    with_check: '*string',
  });
  if (!req) return;
  const [qs, qt, qp] = [quoteIdentifier(schema), quoteIdentifier(table), quoteIdentifier(policy)];
  if (qs === '' || qt === '' || qp === '') {
    sendCode(ctx, 400, 'Invalid schema, table, or policy name', 'INVALID_IDENTIFIER');
    return;
  }
  let sql = `ALTER POLICY ${qp} ON ${qs}.${qt}`;
  if (req.roles && req.roles.length > 0) {
    const quoted: string[] = [];
    for (const r of req.roles) {
      const q = quoteIdentifier(r);
      if (q === '') {
        sendCode(ctx, 400, `Invalid role name: ${r}`, 'INVALID_ROLE');
        return;
      }
      quoted.push(q);
    }
    sql += ` TO ${quoted.join(', ')}`;
  }
  if (req.using !== null) sql += ` USING (${req.using})`;
  if (req.with_check !== null) sql += ` WITH CHECK (${req.with_check})`;
  try {
    await db(ctx).query(sql);
  } catch (e) {
    sendNoCode(ctx, 400, pgErrorText(e));
    return;
  }
  ctx.json(200, { message: `Policy '${policy}' updated successfully`, sql, success: true });
}

/** DELETE /policies/:schema/:table/:policy → `DROP POLICY` (no IF EXISTS). */
export async function deletePolicy(ctx: Ctx): Promise<void> {
  const sql = `DROP POLICY ${quoteIdentifier(ctx.params.policy ?? '')} ON ${quoteIdentifier(ctx.params.schema ?? '')}.${quoteIdentifier(ctx.params.table ?? '')}`;
  try {
    await db(ctx).query(sql);
  } catch (e) {
    sendNoCode(ctx, 400, pgErrorText(e));
    return;
  }
  ctx.json(200, { success: true });
}

/** GET /policies/templates: the six built-in templates. */
export function policyTemplates(ctx: Ctx): void {
  const t = (id: string, name: string, description: string, command: string, using: string, withCheck: string) => ({
    command,
    description,
    id,
    name,
    using,
    with_check: withCheck,
  });
  ctx.json(200, [
    t('user-owns-row', 'User can only access own rows', 'Restricts access to rows where the user_id column matches the authenticated user', 'ALL', 'auth.uid() = user_id', 'auth.uid() = user_id'),
    t('authenticated-read', 'Authenticated users can read all', 'Allows any authenticated user to read all rows', 'SELECT', "auth.role() = 'authenticated'", ''),
    t('public-read', 'Public read-only access', 'Allows anyone (including anonymous) to read all rows', 'SELECT', 'true', ''),
    t('admin-full-access', 'Admin full access', 'Allows admin users full access to all rows', 'ALL', "auth.jwt() ->> 'role' = 'admin'", "auth.jwt() ->> 'role' = 'admin'"),
    t('owner-modify', 'Owner can modify, others can read', 'Owner can read/write, others can only read', 'ALL', 'true', 'auth.uid() = owner_id'),
    t('team-access', 'Team-based access', 'Users can access rows belonging to their team', 'ALL', 'team_id IN (SELECT team_id FROM team_members WHERE user_id = auth.uid())', 'team_id IN (SELECT team_id FROM team_members WHERE user_id = auth.uid())'),
  ]);
}

interface Warning {
  id: string;
  severity: string;
  category: string;
  schema: string;
  table: string;
  policy_name?: string;
  message: string;
  suggestion: string;
  fix_sql?: string;
}

const MANAGED = "('auth', 'storage', 'jobs', 'functions', 'branching', 'realtime', 'ai', 'rpc', 'app', 'platform', 'logging')";

/**
 * GET /security/warnings: the server's seven checks (no RLS on public tables, RLS without
 * policies, USING (true) on non-SELECT, anon writes, missing WITH CHECK, sensitive columns
 * without RLS, PUBLIC policies) with a severity summary. Failing checks are skipped.
 */
export async function securityWarnings(ctx: Ctx): Promise<void> {
  const d = db(ctx);
  const warnings: Warning[] = [];
  const run = async <R>(sql: string, each: (r: R) => Warning): Promise<void> => {
    try {
      for (const r of (await d.query<R>(sql)).rows) warnings.push(each(r));
    } catch {
      /* skipped */
    }
  };
  const notExt = "NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.objid = c.oid AND dep.deptype = 'e')";
  await run<{ t: string }>(
    `SELECT c.relname::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'f') AND NOT c.relrowsecurity AND c.relname NOT LIKE 'pg_%' AND c.relname NOT LIKE '_pg_%' AND ${notExt}`,
    (r) => ({
      id: `no-rls-${r.t}`, severity: 'critical', category: 'rls', schema: 'public', table: r.t,
      message: `Table '${r.t}' does not have Row Level Security enabled`,
      suggestion: 'Enable RLS and create appropriate policies to restrict data access',
      fix_sql: `ALTER TABLE public.${quoteIdentifier(r.t)} ENABLE ROW LEVEL SECURITY;`,
    }),
  );
  await run<{ s: string; t: string }>(
    `SELECT n.nspname::text AS s, c.relname::text AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relrowsecurity AND c.relkind IN ('r', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND ${notExt}
        AND NOT EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname)`,
    (r) => ({
      id: `no-policies-${r.s}-${r.t}`, severity: 'high', category: 'rls', schema: r.s, table: r.t,
      message: `Table '${r.s}.${r.t}' has RLS enabled but no policies defined - all access is denied`,
      suggestion: 'Create at least one policy to allow intended access patterns',
    }),
  );
  const policyWarning = (prefix: string, severity: string, message: (r: { s: string; t: string; p: string; cmd: string }) => string, suggestion: string) =>
    (r: { s: string; t: string; p: string; cmd: string }): Warning => ({
      id: `${prefix}-${r.s}-${r.t}-${r.p}`, severity, category: 'policy', schema: r.s, table: r.t, policy_name: r.p, message: message(r), suggestion,
    });
  const pcols = 'schemaname::text AS s, tablename::text AS t, policyname::text AS p, cmd';
  await run(
    `SELECT ${pcols} FROM pg_policies WHERE qual = 'true' AND cmd <> 'SELECT' AND NOT ('service_role' = ANY(roles) OR 'tenant_service' = ANY(roles))`,
    policyWarning('permissive', 'high', (r) => `Policy '${r.p}' on ${r.s}.${r.t} uses 'USING (true)' for ${r.cmd} - allows unrestricted access`, 'Restrict the USING clause to appropriate conditions'),
  );
  await run(
    `SELECT ${pcols} FROM pg_policies WHERE 'anon' = ANY(roles) AND cmd IN ('INSERT', 'UPDATE', 'DELETE', 'ALL')`,
    policyWarning('anon-write', 'high', (r) => `Policy '${r.p}' grants ${r.cmd} access to anonymous users`, 'Review if anonymous write access is intentional'),
  );
  await run(
    `SELECT ${pcols} FROM pg_policies WHERE cmd IN ('INSERT', 'UPDATE', 'ALL') AND with_check IS NULL AND permissive = 'PERMISSIVE'
        AND NOT ('service_role' = ANY(roles)) AND schemaname NOT IN ${MANAGED}`,
    policyWarning('no-check', 'medium', (r) => `Policy '${r.p}' has no WITH CHECK clause for ${r.cmd} operations`, 'Add WITH CHECK to validate data on insert/update'),
  );
  await run<{ s: string; t: string; col: string }>(
    `SELECT DISTINCT n.nspname::text AS s, c.relname::text AS t, a.attname::text AS col
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'f') AND NOT c.relrowsecurity AND a.attnum > 0 AND NOT a.attisdropped AND ${notExt}
        AND a.attname ~* '(password|secret|token|api_key|apikey|private_key|credit_card|ssn|social_security)'`,
    (r) => ({
      id: `sensitive-no-rls-${r.s}-${r.t}-${r.col}`, severity: 'critical', category: 'sensitive-data', schema: r.s, table: r.t,
      message: `Table '${r.s}.${r.t}' contains sensitive column '${r.col}' but RLS is not enabled`,
      suggestion: 'Enable RLS immediately to protect sensitive data',
      fix_sql: `ALTER TABLE ${quoteIdentifier(r.s)}.${quoteIdentifier(r.t)} ENABLE ROW LEVEL SECURITY;`,
    }),
  );
  await run(
    `SELECT ${pcols} FROM pg_policies WHERE 'public' = ANY(roles)
        AND schemaname NOT IN ('pg_catalog', 'information_schema', 'auth', 'storage', 'jobs', 'functions', 'branching', 'realtime', 'dashboard', 'ai', 'rpc', 'app', 'platform', 'logging')`,
    policyWarning('public-access', 'high', (r) => `Policy '${r.p}' grants ${r.cmd} access to PUBLIC role (all database users)`, "Restrict access to specific roles like 'authenticated' or 'anon'"),
  );
  const summary = { total: warnings.length, critical: 0, high: 0, medium: 0, low: 0 };
  for (const w of warnings) {
    if (w.severity === 'critical' || w.severity === 'high' || w.severity === 'medium' || w.severity === 'low') summary[w.severity]++;
  }
  ctx.json(200, { summary, warnings });
}
