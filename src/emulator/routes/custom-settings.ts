/**
 * Custom and secret settings `/api/v1/admin/settings/custom…` (`internal/api/custom_settings_handler.go`,
 * `internal/settings/custom_settings.go`; keys doc §6). Roles admin / instance_admin /
 * tenant_admin / service_role. Rows of `app.settings` (category `custom`) scoped to the resolved
 * tenant (X-FB-Tenant, else the default tenant): instance-global rows (app/system/auth settings)
 * are invisible here, yet keys are unique across the whole instance (→ 409 DUPLICATE_KEY).
 *
 * | route | success | notes |
 * |---|---|---|
 * | POST /settings/custom            | 201 setting (or secret metadata with `is_secret`) | needs a caller user id (401); bad `value_type` → 500 |
 * | GET /settings/custom             | 200 array by key, **`null` when empty** | secrets show `{"value":"[ENCRYPTED]"}` |
 * | POST /settings/custom/secret     | 201 metadata | needs a user id |
 * | GET /settings/custom/secrets     | 200 metadata array, `null` when empty | |
 * | GET/PUT/DELETE /settings/custom/secret/*key | 200 / 200 / 204 | 404 `Secret setting not found` |
 * | GET/PUT/DELETE /settings/custom/*key | 200 / 200 / 204 | no upsert (404); edit needs admin-like role or `editable_by` (403) |
 * The reserved paths `secrets` and `secret/…` are routed to the secret handlers (registered first).
 * Secret values are AES-256-GCM encrypted at rest (`encrypted_value`) and never returned.
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { parseBody, sendCode } from '../http/errors.js';
import { rfc3339, sortKeys } from '../http/json.js';
import { isUuid } from '../tenancy/tenants.js';
import { ADMIN_PREFIX, adminChain } from './chains.js';
import { SETTING_COLUMNS, isPlainObject } from '../settings/store.js';
import type { SettingRow } from '../settings/store.js';

const ROLES = ['admin', 'instance_admin', 'tenant_admin', 'service_role'];
const VALUE_TYPES = ['string', 'number', 'boolean', 'json'];
const PLACEHOLDER = JSON.stringify({ value: '[ENCRYPTED]' });

/** A row the service cannot scan (NULL description, non-object value…): the handler's 500. */
class Unreadable extends Error {}

/** `CustomSetting` JSON; throws {@link Unreadable} where the Go scan/unmarshal fails. */
function customJson(r: SettingRow): Record<string, unknown> {
  if (r.description === null) throw new Unreadable('NULL description');
  if (r.value !== null && !isPlainObject(r.value)) throw new Unreadable('value is not an object');
  if (r.metadata !== null && !isPlainObject(r.metadata)) throw new Unreadable('metadata is not an object');
  return {
    id: r.id,
    key: r.key,
    value: r.value === null ? null : sortKeys(r.value),
    value_type: r.value_type,
    description: r.description || undefined,
    editable_by: r.editable_by,
    metadata: r.metadata !== null && Object.keys(r.metadata).length > 0 ? sortKeys(r.metadata) : undefined,
    created_by: r.created_by ?? undefined,
    updated_by: r.updated_by ?? undefined,
    created_at: rfc3339(r.created_at),
    updated_at: rfc3339(r.updated_at),
  };
}

/** `SecretSettingMetadata` JSON (never the value). */
function secretJson(r: SettingRow): Record<string, unknown> {
  if (r.description === null) throw new Unreadable('NULL description');
  return {
    id: r.id,
    key: r.key,
    description: r.description || undefined,
    user_id: r.user_id ?? undefined,
    created_by: r.created_by ?? undefined,
    updated_by: r.updated_by ?? undefined,
    created_at: rfc3339(r.created_at),
    updated_at: rfc3339(r.updated_at),
  };
}

/** The tenant rows are scoped to; throws for a non-UUID (slug) tenant, as the RLS cast does. */
function tenantOf(ctx: Ctx): string | null {
  const t = ctx.tenant?.id ?? '';
  if (t === '') return null;
  if (!isUuid(t)) throw new Error(`invalid input syntax for type uuid: "${t}"`);
  return t;
}

/** `WHERE` fragment scoping to the tenant given as parameter `$n`. */
function scoped(n: number): string {
  return `($${n}::uuid IS NULL OR tenant_id = $${n}::uuid)`;
}

/** The caller's user id for create/update: undefined after answering 401 (none) or 500 (not a UUID). */
function callerId(ctx: Ctx): string | undefined {
  const uid = ctx.auth?.userId ?? '';
  if (uid === '') {
    sendCode(ctx, 401, 'Authentication required', 'AUTHENTICATION_REQUIRED');
    return undefined;
  }
  if (!isUuid(uid)) {
    sendCode(ctx, 500, 'Invalid user ID', 'INTERNAL_ERROR');
    return undefined;
  }
  return uid;
}

function wildcardKey(ctx: Ctx): string | undefined {
  const key = ctx.params['*'] ?? '';
  if (key === '') {
    sendCode(ctx, 400, 'Setting key is required', 'MISSING_REQUIRED_FIELD');
    return undefined;
  }
  return key;
}

/** `CanEditSetting`. */
function canEdit(editableBy: string[], role: string): boolean {
  return role === 'instance_admin' || role === 'admin' || role === 'service_role' || editableBy.includes(role);
}

function isUniqueViolation(e: unknown): boolean {
  return (e as { code?: string })?.code === '23505';
}

/** `extractStringValueFromMap`: `value.value` if a string, else the single string member. */
function secretString(m: Record<string, unknown>): string {
  const v = m.value;
  if (typeof v === 'string') return v;
  const entries = Object.values(m);
  if (entries.length === 1 && typeof entries[0] === 'string') return entries[0];
  return '';
}

async function getCustom(app: EmulatorApp, ctx: Ctx, key: string): Promise<SettingRow | undefined> {
  const r = await app.main.query<SettingRow>(`SELECT ${SETTING_COLUMNS} FROM app.settings WHERE key = $1 AND ${scoped(2)} LIMIT 1`, [key, tenantOf(ctx)]);
  return r.rows[0];
}

async function getSecret(app: EmulatorApp, ctx: Ctx, key: string): Promise<SettingRow | undefined> {
  const r = await app.main.query<SettingRow>(
    `SELECT ${SETTING_COLUMNS} FROM app.settings WHERE key = $1 AND is_secret = true AND user_id IS NULL AND ${scoped(2)}`,
    [key, tenantOf(ctx)],
  );
  return r.rows[0];
}

/** `CreateSecretSetting` (system secret: no user). Throws the driver error. */
async function insertSecret(app: EmulatorApp, ctx: Ctx, key: string, value: string, description: string, createdBy: string): Promise<SettingRow> {
  const r = await app.main.query<SettingRow>(
    `INSERT INTO app.settings (key, value, value_type, description, is_secret, encrypted_value, user_id, editable_by, category, created_by, updated_by, tenant_id)
     VALUES ($1, $2::jsonb, 'string', $3, true, $4, NULL, ARRAY['instance_admin']::text[], 'custom', $5::uuid, $5::uuid, $6::uuid) RETURNING ${SETTING_COLUMNS}`,
    [key, PLACEHOLDER, description, app.secrets.seal(value), createdBy, tenantOf(ctx)],
  );
  return r.rows[0] as SettingRow;
}

interface CreateReq {
  key: string;
  value: Record<string, unknown> | null;
  value_type: string;
  description: string;
  editable_by: string[] | null;
  metadata: Record<string, unknown> | null;
  is_secret: boolean;
}

const CREATE_SPEC: StructSpec = {
  key: 'string',
  value: 'map[string]any',
  value_type: 'string',
  description: 'string',
  editable_by: '[]string',
  metadata: 'map[string]any',
  is_secret: 'bool',
};

interface UpdateReq {
  value: Record<string, unknown> | null;
  description: string | null;
  editable_by: string[] | null;
  metadata: Record<string, unknown> | null;
}

const UPDATE_SPEC: StructSpec = { value: 'map[string]any', description: '*string', editable_by: '[]string', metadata: 'map[string]any' };

async function createCustom(app: EmulatorApp, ctx: Ctx): Promise<void> {
  const uid = callerId(ctx);
  if (!uid) return;
  const req = parseBody<CreateReq>(ctx, CREATE_SPEC);
  if (!req) return;
  if (req.key === '') return sendCode(ctx, 400, 'Setting key is required', 'MISSING_REQUIRED_FIELD');
  if (req.value === null) return sendCode(ctx, 400, 'Setting value is required', 'MISSING_REQUIRED_FIELD');
  if (req.is_secret) {
    const secret = secretString(req.value);
    if (secret === '') return sendCode(ctx, 400, 'Secret value must be a non-empty string (use {"value": "your-secret"})', 'INVALID_INPUT');
    try {
      ctx.json(201, secretJson(await insertSecret(app, ctx, req.key, secret, req.description, uid)));
    } catch (e) {
      if (isUniqueViolation(e)) return sendCode(ctx, 409, 'A setting with this key already exists', 'DUPLICATE_KEY');
      app.log(`create secret setting failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to create setting', 'INTERNAL_ERROR');
    }
    return;
  }
  const valueType = req.value_type === '' ? 'string' : req.value_type;
  if (!VALUE_TYPES.includes(valueType)) {
    app.log(`create custom setting failed: invalid value_type: ${valueType}`);
    return sendCode(ctx, 500, 'Failed to create setting', 'INTERNAL_ERROR');
  }
  const editableBy = req.editable_by && req.editable_by.length > 0 ? req.editable_by : ['instance_admin'];
  try {
    const r = await app.main.query<SettingRow>(
      `INSERT INTO app.settings (key, value, value_type, description, editable_by, metadata, created_by, updated_by, category, tenant_id)
       VALUES ($1, $2::jsonb, $3, $4, $5::text[], $6::jsonb, $7::uuid, $7::uuid, 'custom', $8::uuid) RETURNING ${SETTING_COLUMNS}`,
      [req.key, JSON.stringify(req.value), valueType, req.description, editableBy, JSON.stringify(req.metadata ?? {}), uid, tenantOf(ctx)],
    );
    ctx.json(201, customJson(r.rows[0] as SettingRow));
  } catch (e) {
    if (isUniqueViolation(e)) return sendCode(ctx, 409, 'A setting with this key already exists', 'DUPLICATE_KEY');
    app.log(`create custom setting failed: ${(e as Error).message}`);
    sendCode(ctx, 500, 'Failed to create setting', 'INTERNAL_ERROR');
  }
}

async function updateCustom(app: EmulatorApp, ctx: Ctx): Promise<void> {
  const key = wildcardKey(ctx);
  if (!key) return;
  const uid = callerId(ctx);
  if (!uid) return;
  const req = parseBody<UpdateReq>(ctx, UPDATE_SPEC);
  if (!req) return;
  if (req.value === null) return sendCode(ctx, 400, 'Setting value is required', 'MISSING_REQUIRED_FIELD');
  try {
    const existing = await getCustom(app, ctx, key);
    if (!existing) return sendCode(ctx, 404, 'Setting not found', 'NOT_FOUND');
    customJson(existing); // the service reads it first: an unreadable row fails here
    if (!canEdit(existing.editable_by, ctx.auth?.role ?? '')) {
      return sendCode(ctx, 403, 'You do not have permission to edit this setting', 'ACCESS_DENIED');
    }
    const r = await app.main.query<SettingRow>(
      `UPDATE app.settings SET value = $1::jsonb, description = $2, editable_by = $3::text[], metadata = $4::jsonb, updated_by = $5::uuid, updated_at = clock_timestamp()
        WHERE key = $6 AND ${scoped(7)} RETURNING ${SETTING_COLUMNS}`,
      [
        JSON.stringify(req.value),
        req.description ?? existing.description,
        req.editable_by && req.editable_by.length > 0 ? req.editable_by : existing.editable_by,
        JSON.stringify(req.metadata ?? existing.metadata),
        uid,
        key,
        tenantOf(ctx),
      ],
    );
    ctx.json(200, customJson(r.rows[0] as SettingRow));
  } catch (e) {
    app.log(`update custom setting failed: ${(e as Error).message}`);
    sendCode(ctx, 500, 'Failed to update setting', 'INTERNAL_ERROR');
  }
}

async function deleteCustom(app: EmulatorApp, ctx: Ctx): Promise<void> {
  const key = wildcardKey(ctx);
  if (!key) return;
  try {
    const existing = await getCustom(app, ctx, key);
    if (!existing) return sendCode(ctx, 404, 'Setting not found', 'NOT_FOUND');
    customJson(existing);
    if (!canEdit(existing.editable_by, ctx.auth?.role ?? '')) {
      return sendCode(ctx, 403, 'You do not have permission to delete this setting', 'ACCESS_DENIED');
    }
    const r = await app.main.query(`DELETE FROM app.settings WHERE key = $1 AND ${scoped(2)}`, [key, tenantOf(ctx)]);
    if (r.rowCount === 0) return sendCode(ctx, 404, 'Setting not found', 'NOT_FOUND');
    ctx.empty(204);
  } catch (e) {
    app.log(`delete custom setting failed: ${(e as Error).message}`);
    sendCode(ctx, 500, 'Failed to delete setting', 'INTERNAL_ERROR');
  }
}

export function registerCustomSettings(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/settings/custom`;
  const chain = adminChain(app, ROLES);

  router.add('POST', p, ...chain, (ctx) => createCustom(app, ctx));

  router.add('GET', p, ...chain, async (ctx) => {
    try {
      const r = await app.main.query<SettingRow>(`SELECT ${SETTING_COLUMNS} FROM app.settings WHERE category = 'custom' AND ${scoped(1)} ORDER BY key`, [tenantOf(ctx)]);
      ctx.json(200, r.rows.length === 0 ? null : r.rows.map(customJson));
    } catch (e) {
      app.log(`list custom settings failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to retrieve custom settings', 'INTERNAL_ERROR');
    }
  });

  router.add('POST', `${p}/secret`, ...chain, async (ctx) => {
    const uid = callerId(ctx);
    if (!uid) return;
    const req = parseBody<{ key: string; value: string; description: string }>(ctx, { key: 'string', value: 'string', description: 'string' });
    if (!req) return;
    if (req.key === '') return sendCode(ctx, 400, 'Setting key is required', 'MISSING_REQUIRED_FIELD');
    if (req.value === '') return sendCode(ctx, 400, 'Setting value is required', 'MISSING_REQUIRED_FIELD');
    try {
      ctx.json(201, secretJson(await insertSecret(app, ctx, req.key, req.value, req.description, uid)));
    } catch (e) {
      if (isUniqueViolation(e)) return sendCode(ctx, 409, 'A secret setting with this key already exists', 'DUPLICATE_KEY');
      app.log(`create secret setting failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to create secret setting', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/secrets`, ...chain, async (ctx) => {
    try {
      const r = await app.main.query<SettingRow>(
        `SELECT ${SETTING_COLUMNS} FROM app.settings WHERE is_secret = true AND user_id IS NULL AND ${scoped(1)} ORDER BY key`,
        [tenantOf(ctx)],
      );
      ctx.json(200, r.rows.length === 0 ? null : r.rows.map(secretJson));
    } catch (e) {
      app.log(`list secret settings failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to retrieve secret settings', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/secret/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    try {
      const row = await getSecret(app, ctx, key);
      if (!row) return sendCode(ctx, 404, 'Secret setting not found', 'NOT_FOUND');
      ctx.json(200, secretJson(row));
    } catch (e) {
      app.log(`get secret setting failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to retrieve secret setting', 'INTERNAL_ERROR');
    }
  });

  router.add('PUT', `${p}/secret/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    const uid = callerId(ctx);
    if (!uid) return;
    const req = parseBody<{ value: string | null; description: string | null }>(ctx, { value: '*string', description: '*string' });
    if (!req) return;
    try {
      const existing = await getSecret(app, ctx, key);
      if (!existing) return sendCode(ctx, 404, 'Secret setting not found', 'NOT_FOUND');
      const description = req.description ?? existing.description;
      const r =
        req.value !== null
          ? await app.main.query<SettingRow>(
              `UPDATE app.settings SET description = $1, encrypted_value = $2, updated_by = $3::uuid, updated_at = clock_timestamp() WHERE id = $4::uuid RETURNING ${SETTING_COLUMNS}`,
              [description, app.secrets.seal(req.value), uid, existing.id],
            )
          : await app.main.query<SettingRow>(
              `UPDATE app.settings SET description = $1, updated_by = $2::uuid, updated_at = clock_timestamp() WHERE id = $3::uuid RETURNING ${SETTING_COLUMNS}`,
              [description, uid, existing.id],
            );
      ctx.json(200, secretJson(r.rows[0] as SettingRow));
    } catch (e) {
      app.log(`update secret setting failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to update secret setting', 'INTERNAL_ERROR');
    }
  });

  router.add('DELETE', `${p}/secret/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    try {
      const r = await app.main.query(`DELETE FROM app.settings WHERE key = $1 AND is_secret = true AND user_id IS NULL AND ${scoped(2)}`, [key, tenantOf(ctx)]);
      if (r.rowCount === 0) return sendCode(ctx, 404, 'Secret setting not found', 'NOT_FOUND');
      ctx.empty(204);
    } catch (e) {
      app.log(`delete secret setting failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to delete secret setting', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/*`, ...chain, async (ctx) => {
    const key = wildcardKey(ctx);
    if (!key) return;
    try {
      const row = await getCustom(app, ctx, key);
      if (!row) return sendCode(ctx, 404, 'Setting not found', 'NOT_FOUND');
      ctx.json(200, customJson(row));
    } catch (e) {
      app.log(`get custom setting failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to retrieve setting', 'INTERNAL_ERROR');
    }
  });
  router.add('PUT', `${p}/*`, ...chain, (ctx) => updateCustom(app, ctx));
  router.add('DELETE', `${p}/*`, ...chain, (ctx) => deleteCustom(app, ctx));
}
