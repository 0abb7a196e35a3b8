/**
 * POST /api/v1/admin/sql/execute (`internal/api/sql_handler.go`; auth doc §7).
 *
 * - Body `{"query":…}`; blank → `400 "Query cannot be empty" INVALID_INPUT`.
 * - Statements are split with the PostgreSQL parser and run sequentially in ONE transaction.
 *   A failing statement aborts the transaction: later statements report SQLSTATE 25P02, the
 *   final COMMIT silently rolls back, and the answer is still 200. Check every `error`.
 * - Identity: an instance_admin JWT **without** `X-FB-Tenant` runs `SET LOCAL ROLE service_role`;
 *   everyone else (service_role JWTs included, and any request with the header) runs with
 *   `request.jwt.claims` = `{sub, role, email?, session_id?, user_metadata?, app_metadata?,
 *   tenant_id?}`, `app.current_tenant_id`, and `SET LOCAL ROLE "authenticated"` (`"anon"` for
 *   an anon role claim). `X-Impersonation-Token` runs as that token's user.
 * - Each result: `{columns?, rows?, row_count, affected_rows?, execution_time_ms, error?,
 *   statement}`; at most 1000 rows, then `error: "Result limited to 1000 rows (query returned N rows)"`.
 */
import type { Ctx } from '../http/context.js';
import type { Claims } from '../http/context.js';
import type { EmulatorApp } from '../app.js';
import type { Sql } from '../db/types.js';
import { pgErrorText } from '../db/types.js';
import { parseBody, sendCode } from '../http/errors.js';
import { splitStatements } from '../sql/split.js';
import { renderValue } from '../sql/values.js';

const MAX_ROWS = 1000;

export interface SqlResult {
  columns?: string[];
  rows?: Array<Record<string, unknown>>;
  row_count: number;
  affected_rows?: number;
  execution_time_ms: number;
  error?: string;
  statement: string;
}

/** Runs one statement inside the open transaction and renders its result. */
export async function executeStatement(tx: Sql, statement: string): Promise<SqlResult> {
  const started = Date.now();
  try {
    const res = await tx.query<unknown[]>(statement, [], { raw: true });
    const columns = res.fields.map((f) => f.name);
    const out: SqlResult = { row_count: 0, execution_time_ms: 0, statement };
    if (columns.length > 0) {
      out.columns = columns;
      const limited = res.rows.slice(0, MAX_ROWS);
      // Go marshals each row map with sorted keys; a duplicated column name keeps the last value.
      const order = columns.map((c, i) => [c, i] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1]));
      const rows = limited.map((values) => {
        const row: Record<string, unknown> = {};
        for (const [name, i] of order) row[name] = renderValue((values[i] ?? null) as string | null, res.fields[i]?.dataTypeID ?? 25);
        return row;
      });
      if (rows.length > 0) out.rows = rows;
      out.row_count = rows.length;
      if (res.rows.length > MAX_ROWS) out.error = `Result limited to ${MAX_ROWS} rows (query returned ${res.rows.length} rows)`;
    } else {
      out.row_count = res.rowCount;
      if (res.rowCount !== 0) out.affected_rows = res.rowCount;
    }
    out.execution_time_ms = Date.now() - started;
    return reorder(out);
  } catch (e) {
    return { row_count: 0, execution_time_ms: Date.now() - started, error: pgErrorText(e), statement };
  }
}

/** Field order of the Go struct. */
function reorder(r: SqlResult): SqlResult {
  return {
    columns: r.columns,
    rows: r.rows,
    row_count: r.row_count,
    affected_rows: r.affected_rows,
    execution_time_ms: r.execution_time_ms,
    error: r.error,
    statement: r.statement,
  };
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function executeSql(app: EmulatorApp) {
  return async (ctx: Ctx): Promise<void> => {
    const req = parseBody<{ query: string }>(ctx, { query: 'string' });
    if (!req) return;
    if (req.query.trim() === '') {
      sendCode(ctx, 400, 'Query cannot be empty', 'INVALID_INPUT');
      return;
    }
    const tenant = ctx.tenant;
    const auth = ctx.auth;
    if (!tenant || !auth) throw new Error('middlewares did not run');
    const statements = await splitStatements(req.query);
    const tenantId = tenant.id;

    let setup: (tx: Sql) => Promise<string | undefined>;
    const impersonation = ctx.header('x-impersonation-token').trim();
    if (impersonation !== '') {
      const claims = await app.jwt.verify(impersonation);
      if (!claims) {
        sendCode(ctx, 400, 'Invalid impersonation token', 'INVALID_INPUT');
        return;
      }
      const map: Record<string, unknown> = {
        email: str(claims.email),
        is_anonymous: claims.is_anonymous === true,
        role: str(claims.role),
        sub: str(claims.user_id),
      };
      setup = rlsSetup(map, claims, tenantId);
    } else if (auth.isInstanceAdmin && tenant.source !== 'header') {
      setup = async (tx) => {
        try {
          await tx.query('SET LOCAL ROLE service_role', undefined, { withBegin: true });
          return undefined;
        } catch {
          return 'Failed to set service_role';
        }
      };
    } else {
      const claims: Claims = auth.claims ?? { user_id: auth.userId, role: 'authenticated' };
      const map: Record<string, unknown> = { role: str(claims.role), sub: str(claims.user_id) };
      if (str(claims.email) !== '') map.email = claims.email;
      setup = rlsSetup(map, claims, tenantId);
    }

    let failure: string | undefined;
    let results: SqlResult[] = [];
    await tenant.db.transaction(async (tx) => {
      failure = await setup(tx);
      if (failure) return;
      for (const s of statements) {
        const stmt = s.trim();
        if (stmt !== '') results.push(await executeStatement(tx, stmt));
      }
    });
    if (failure) {
      sendCode(ctx, 500, failure, 'INTERNAL_ERROR');
      results = [];
      return;
    }
    ctx.json(200, { results });
  };
}

/** request.jwt.claims + app.current_tenant_id + SET LOCAL ROLE "authenticated"/"anon". */
function rlsSetup(map: Record<string, unknown>, claims: Claims, tenantId: string) {
  if (str(claims.session_id) !== '') map.session_id = claims.session_id;
  if (claims.user_metadata) map.user_metadata = claims.user_metadata;
  if (claims.app_metadata) map.app_metadata = claims.app_metadata;
  if (tenantId !== '') map.tenant_id = tenantId;
  const dbRole = str(claims.role) === 'anon' ? 'anon' : 'authenticated';
  return async (tx: Sql): Promise<string | undefined> => {
    try {
      await tx.query("SELECT set_config('request.jwt.claims', $1, true)", [JSON.stringify(map)]);
    } catch {
      return 'Failed to set JWT claims';
    }
    if (tenantId !== '') {
      try {
        await tx.query("SELECT set_config('app.current_tenant_id', $1, true)", [tenantId]);
      } catch {
        return 'Failed to set tenant context';
      }
    }
    try {
      await tx.query(`SET LOCAL ROLE "${dbRole}"`);
    } catch {
      return 'Failed to set database role';
    }
    return undefined;
  };
}
