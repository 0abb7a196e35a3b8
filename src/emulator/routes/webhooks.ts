/**
 * Webhooks `/api/v1/webhooks` (`internal/api/webhook_handler.go`, `internal/webhook/webhook.go`;
 * keys doc §3). Chain: TenantContext → TenantDBContext → auth family B → RequireScope
 * (webhooks:read / webhooks:write, for service/client keys only). No role check.
 * Stored in `auth.webhooks` of the main database with the tenant id.
 *
 * | route | success | quirks |
 * |---|---|---|
 * | GET /            | 200 bare array, `[]`, newest first, exact tenant only | |
 * | GET /:id         | 200 | tenant or NULL-tenant rows; bad id 400 INVALID_ID; 404 |
 * | POST /           | 201 object | `enabled` defaults false; retries 3, backoff 5, timeout 30, headers {}, scope user |
 * | PATCH /:id       | 200 `{success,message}` | FULL replacement with zero values; missing → 500 |
 * | DELETE /:id      | 200 `{success,message}` | missing → 500 |
 * | POST /:id/test   | 200 `{success,message}` | sends the TEST payload even when disabled; no delivery row |
 * | GET /:id/deliveries?limit= | 200 bare array or `null` | missing webhook → 500 |
 * `secret` and `tenant_id` are never returned.
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { parseBody, sendCode, sendPanic, sendSuccess } from '../http/errors.js';
import { goJson, goNowJson, rfc3339, sortKeys } from '../http/json.js';
import { authOrServiceKey, requireScope } from '../auth/middleware.js';
import { tenantContext, tenantDb } from '../tenancy/middleware.js';
import { isUuid } from '../tenancy/tenants.js';
import { webhookHeadersProblem, webhookUrlProblem } from '../webhooks/guard.js';
import { deliver } from '../webhooks/delivery.js';

interface WebhookReq {
  name: string;
  description: string | null;
  url: string;
  secret: string | null;
  enabled: boolean;
  events: Array<{ table: string; operations: string[] | null }> | null;
  max_retries: number;
  retry_backoff_seconds: number;
  timeout_seconds: number;
  headers: Record<string, string> | null;
  scope: string;
  created_by: string | null;
}

const WEBHOOK_SPEC: StructSpec = {
  name: 'string',
  description: '*string',
  url: 'string',
  secret: '*string',
  enabled: 'bool',
  events: { slice: { table: 'string', operations: '[]string' } },
  max_retries: 'int',
  retry_backoff_seconds: 'int',
  timeout_seconds: 'int',
  headers: 'map[string]string',
  scope: 'string',
  created_by: '*string',
};

interface WebhookRow {
  id: string;
  name: string;
  description: string | null;
  url: string;
  secret: string | null;
  enabled: boolean;
  events: unknown;
  max_retries: number;
  retry_backoff_seconds: number;
  timeout_seconds: number;
  headers: Record<string, string> | null;
  scope: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

const COLUMNS =
  'id::text AS id, name, description, url, secret, enabled, events, max_retries, retry_backoff_seconds, timeout_seconds, headers, scope, created_by::text AS created_by, created_at, updated_at';

/** `WebhookResponse`: no secret, no tenant_id; description and created_by omitted when null. */
function webhookJson(w: WebhookRow): Record<string, unknown> {
  return {
    id: w.id,
    name: w.name,
    description: w.description ?? undefined,
    url: w.url,
    enabled: w.enabled,
    events: w.events ?? null,
    max_retries: w.max_retries,
    retry_backoff_seconds: w.retry_backoff_seconds,
    timeout_seconds: w.timeout_seconds,
    headers: w.headers === null ? null : sortKeys(w.headers),
    scope: w.scope ?? 'user',
    created_by: w.created_by ?? undefined,
    created_at: rfc3339(w.created_at),
    updated_at: rfc3339(w.updated_at),
  };
}

/** Events as Go marshals `[]EventConfig` (null slice → null, nil operations → null). */
function eventsJson(events: WebhookReq['events']): string {
  return goJson(events === null ? null : events.map((e) => ({ table: e.table, operations: e.operations })));
}

function tenantId(ctx: Ctx): string {
  return ctx.tenant?.id ?? '';
}

/** Tenant-filtered lookup (`Get`): the tenant's rows and NULL-tenant rows. Throws on SQL errors. */
async function getWebhook(app: EmulatorApp, ctx: Ctx, id: string): Promise<WebhookRow | undefined> {
  const t = tenantId(ctx);
  const r =
    t !== ''
      ? await app.main.query<WebhookRow>(`SELECT ${COLUMNS} FROM auth.webhooks WHERE id = $1::uuid AND (tenant_id = $2::uuid OR tenant_id IS NULL)`, [id, t])
      : await app.main.query<WebhookRow>(`SELECT ${COLUMNS} FROM auth.webhooks WHERE id = $1::uuid`, [id]);
  return r.rows[0];
}

async function validateTarget(app: EmulatorApp, req: WebhookReq): Promise<string | undefined> {
  if (app.opts.webhookUrlGuard) {
    const problem = await webhookUrlProblem(req.url, app.opts.hosts);
    if (problem) return `invalid webhook URL: ${problem}`;
  }
  const hp = webhookHeadersProblem(req.headers);
  return hp ? `invalid webhook headers: ${hp}` : undefined;
}

function validId(ctx: Ctx): string | undefined {
  const id = ctx.params.id ?? '';
  if (!isUuid(id)) {
    sendCode(ctx, 400, 'Invalid webhook ID', 'INVALID_ID');
    return undefined;
  }
  return id;
}

function bindWebhook(ctx: Ctx): WebhookReq | undefined {
  const req = parseBody<WebhookReq>(ctx, WEBHOOK_SPEC);
  if (req && req.created_by !== null && !isUuid(req.created_by)) {
    sendCode(ctx, 400, 'Invalid request body', 'INVALID_REQUEST_BODY');
    return undefined;
  }
  return req;
}

export function registerWebhooks(router: Router, app: EmulatorApp): void {
  const p = '/api/v1/webhooks';
  const base = [tenantContext(app, { prefetch: true }), tenantDb(app), authOrServiceKey(app)];
  const read = [...base, requireScope('webhooks:read')];
  const write = [...base, requireScope('webhooks:write')];

  router.add('GET', p, ...read, async (ctx) => {
    try {
      const t = tenantId(ctx);
      const r = await app.main.query<WebhookRow>(
        `SELECT ${COLUMNS} FROM auth.webhooks WHERE (tenant_id = $1::uuid OR ($1::uuid IS NULL AND tenant_id IS NULL)) ORDER BY created_at DESC`,
        [t === '' ? null : t],
      );
      ctx.json(200, r.rows.map(webhookJson));
    } catch {
      sendCode(ctx, 500, 'Failed to list webhooks', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/:id`, ...read, async (ctx) => {
    const id = validId(ctx);
    if (!id) return;
    const w = await getWebhook(app, ctx, id).catch(() => undefined);
    if (!w) return sendCode(ctx, 404, 'Webhook not found', 'NOT_FOUND');
    ctx.json(200, webhookJson(w));
  });

  router.add('GET', `${p}/:id/deliveries`, ...read, async (ctx) => {
    const id = validId(ctx);
    if (!id) return;
    let limit = 50;
    const raw = ctx.q('limit');
    if (raw !== '') {
      const n = Number(raw);
      limit = Number.isInteger(n) ? n : 50;
    }
    try {
      const w = await getWebhook(app, ctx, id);
      if (!w) throw new Error('webhook not found');
      const r = await app.main.query<{ id: string; webhook_id: string; event: string; payload: unknown; status: string; status_code: number | null; response_body: string | null; error: string | null; attempt: number; delivered_at: string | null; created_at: string }>(
        `SELECT id::text AS id, webhook_id::text AS webhook_id, event, payload, status, status_code, response_body, error, attempt, delivered_at, created_at
           FROM auth.webhook_deliveries WHERE webhook_id = $1::uuid ORDER BY created_at DESC LIMIT $2`,
        [id, limit],
      );
      ctx.json(
        200,
        r.rows.length === 0
          ? null
          : r.rows.map((d) => ({
              id: d.id,
              webhook_id: d.webhook_id,
              event: d.event,
              payload: d.payload,
              status: d.status,
              status_code: d.status_code ?? undefined,
              response_body: d.response_body ?? undefined,
              error: d.error ?? undefined,
              attempt: d.attempt,
              delivered_at: d.delivered_at ? rfc3339(d.delivered_at) : undefined,
              created_at: rfc3339(d.created_at),
            })),
      );
    } catch {
      sendCode(ctx, 500, 'Failed to list deliveries', 'INTERNAL_ERROR');
    }
  });

  router.add('POST', p, ...write, async (ctx) => {
    const req = bindWebhook(ctx);
    if (!req) return;
    if (req.name === '') return sendCode(ctx, 400, 'Name is required', 'MISSING_REQUIRED_FIELD');
    if (req.url === '') return sendCode(ctx, 400, 'URL is required', 'MISSING_REQUIRED_FIELD');
    if (req.max_retries === 0) req.max_retries = 3;
    if (req.retry_backoff_seconds === 0) req.retry_backoff_seconds = 5;
    if (req.timeout_seconds === 0) req.timeout_seconds = 30;
    if (req.headers === null) req.headers = {};
    if (req.scope === '') req.scope = 'user';
    const uid = ctx.auth?.userId ?? '';
    if (isUuid(uid)) req.created_by = uid;
    const problem = await validateTarget(app, req);
    if (problem) {
      app.log(`webhook create refused: ${problem}`);
      return sendCode(ctx, 500, 'Failed to create webhook', 'INTERNAL_ERROR');
    }
    const t = tenantId(ctx);
    if (t !== '' && !isUuid(t)) return sendPanic(ctx); // uuid.MustParse on a slug panics
    try {
      const r = await app.main.query<WebhookRow>(
        `INSERT INTO auth.webhooks (name, description, url, secret, enabled, events, max_retries, retry_backoff_seconds, timeout_seconds, headers, scope, created_by, tenant_id)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12::uuid, $13::uuid) RETURNING ${COLUMNS}`,
        [req.name, req.description, req.url, req.secret, req.enabled, eventsJson(req.events), req.max_retries, req.retry_backoff_seconds, req.timeout_seconds, goJson(req.headers), req.scope, req.created_by, t === '' ? null : t],
      );
      ctx.json(201, webhookJson(r.rows[0] as WebhookRow));
    } catch (e) {
      app.log(`webhook create failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to create webhook', 'INTERNAL_ERROR');
      return;
    }
    if (req.enabled) await manageTriggers(app, tablesOf(req.events));
  });

  router.add('PATCH', `${p}/:id`, ...write, async (ctx) => {
    const id = validId(ctx);
    if (!id) return;
    const req = bindWebhook(ctx);
    if (!req) return;
    const problem = await validateTarget(app, req);
    const old = problem ? undefined : await getWebhook(app, ctx, id).catch(() => undefined);
    if (problem || !old) {
      app.log(`webhook update refused: ${problem ?? 'webhook not found'}`);
      return sendCode(ctx, 500, 'Failed to update webhook', 'INTERNAL_ERROR');
    }
    if (req.scope === '') req.scope = 'user';
    try {
      // Full replacement: every column from the body, zero values for omitted fields.
      await app.main.query(
        `UPDATE auth.webhooks SET name = $1, description = $2, url = $3, secret = $4, enabled = $5, events = $6::jsonb,
                max_retries = $7, retry_backoff_seconds = $8, timeout_seconds = $9, headers = $10::jsonb, scope = $11
          WHERE id = $12::uuid`,
        [req.name, req.description, req.url, req.secret, req.enabled, eventsJson(req.events), req.max_retries, req.retry_backoff_seconds, req.timeout_seconds, goJson(req.headers), req.scope, id],
      );
    } catch (e) {
      app.log(`webhook update failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to update webhook', 'INTERNAL_ERROR');
    }
    // internal/webhook/webhook.go:615-665: triggers follow the enabled flag and the watched tables.
    const before = tablesOf(old.events);
    const after = tablesOf(req.events);
    if (old.enabled && !req.enabled) await cleanupTriggers(app, before);
    else if (!old.enabled && req.enabled) await manageTriggers(app, after);
    else if (old.enabled && req.enabled) {
      await cleanupTriggers(app, before.filter((t) => !after.includes(t)));
      for (const t of after.filter((x) => !before.includes(x))) await manageTriggers(app, [t]);
    }
    sendSuccess(ctx, 'Webhook updated successfully');
  });

  router.add('DELETE', `${p}/:id`, ...write, async (ctx) => {
    const id = validId(ctx);
    if (!id) return;
    const w = await getWebhook(app, ctx, id).catch(() => undefined);
    if (!w) return sendCode(ctx, 500, 'Failed to delete webhook', 'INTERNAL_ERROR');
    await app.main.query('DELETE FROM auth.webhooks WHERE id = $1::uuid', [id]);
    if (w.enabled) await cleanupTriggers(app, tablesOf(w.events));
    sendSuccess(ctx, 'Webhook deleted successfully');
  });

  router.add('POST', `${p}/:id/test`, ...write, async (ctx) => {
    const id = validId(ctx);
    if (!id) return;
    const w = await getWebhook(app, ctx, id).catch(() => undefined);
    if (!w) return sendCode(ctx, 404, 'Webhook not found', 'NOT_FOUND');
    const payload = `{"event":"TEST","table":"test","schema":"public","record":{"test":true},"timestamp":"${goNowJson()}"}`;
    try {
      await deliver({ url: w.url, secret: w.secret, headers: w.headers, timeout_seconds: w.timeout_seconds }, payload, app.opts.webhookUrlGuard, app.opts.hosts);
    } catch (e) {
      app.log(`test webhook failed: ${(e as Error).message}`);
      return sendCode(ctx, 500, 'Failed to send test webhook', 'INTERNAL_ERROR');
    }
    sendSuccess(ctx, 'Test webhook sent successfully');
  });
}

/** The distinct watched tables of a webhook's events, in order, without `*` (webhook.go:256-266). */
function tablesOf(events: unknown): string[] {
  const out: string[] = [];
  for (const e of Array.isArray(events) ? (events as { table?: unknown }[]) : []) {
    const t = typeof e?.table === 'string' ? e.table : '';
    if (t !== '' && t !== '*' && !out.includes(t)) out.push(t);
  }
  return out;
}

/** `parseTableReference`: `s.t` → [s, t]; a bare name means the `auth` schema (webhook.go:240-253). */
function tableReference(t: string): [string, string] {
  const i = t.indexOf('.');
  return i > 0 ? [t.slice(0, i), t.slice(i + 1)] : ['auth', t];
}

/**
 * `ManageTriggersForWebhook`: increments each watched table's count in the MAIN database (so a
 * tenant database's tables never get a trigger, F7), stopping at the first failure (e.g. a table
 * that does not exist there), which is only logged.
 */
async function manageTriggers(app: EmulatorApp, tables: readonly string[]): Promise<void> {
  for (const t of tables) {
    const [schema, table] = tableReference(t);
    try {
      await app.main.query('SELECT auth.increment_webhook_table_count($1, $2)', [schema, table]);
    } catch (e) {
      app.log(`failed to create trigger for ${schema}.${table}: ${(e as Error).message}`);
      return;
    }
  }
}

/** `CleanupTriggersForWebhook`: decrements each table's count; failures are logged and skipped. */
async function cleanupTriggers(app: EmulatorApp, tables: readonly string[]): Promise<void> {
  for (const t of tables) {
    const [schema, table] = tableReference(t);
    await app.main.query('SELECT auth.decrement_webhook_table_count($1, $2)', [schema, table]).catch((e: Error) => app.log(`failed to decrement webhook count for ${schema}.${table}: ${e.message}`));
  }
}
