/**
 * OAuth providers `/api/v1/admin/oauth/providers[/:id]` (`internal/api/oauth_provider_handler.go`;
 * keys doc §8). Roles admin / instance_admin. Rows of `platform.oauth_providers`, instance-level
 * (tenant_id NULL), addressed by UUID.
 *
 * | route | success | quirks |
 * |---|---|---|
 * | GET /     | 200 bare array: database providers by `display_name` (`source:"database"`), then config-file providers not in the database by name (nil id, `source:"config"`) | |
 * | GET /:id  | 200 provider (no `source`, no `tenant_id`) | config providers → 404 |
 * | POST /    | 201 `{created_at,id,message,provider,success,updated_at}` (not the provider) | `enabled` defaults false; duplicate names accepted |
 * | PUT /:id  | 200 `{success,message}` | partial; `""` client_secret keeps the old one; name and is_custom immutable |
 * | DELETE /:id | 200 `{success,message}` | 404 |
 * `client_secret` is encrypted at rest and never returned (`has_secret` only).
 */
import type { EmulatorApp } from '../app.js';
import type { Ctx } from '../http/context.js';
import type { Router } from '../http/router.js';
import type { StructSpec } from '../http/bind.js';
import { parseBody, sendCode, sendInvalidBody, sendSuccess } from '../http/errors.js';
import { goNowJson, rfc3339, sortKeys } from '../http/json.js';
import { isUuid } from '../tenancy/tenants.js';
import { ADMIN_ONLY, ADMIN_PREFIX, adminChain } from './chains.js';
import { isPlainObject } from '../settings/store.js';

const NAME_RE = /^[a-z][a-z0-9_]{1,49}$/;

interface ProviderRow {
  id: string;
  provider_name: string;
  display_name: string;
  enabled: boolean | null;
  client_id: string;
  redirect_url: string;
  scopes: string[] | null;
  is_custom: boolean | null;
  authorization_url: string | null;
  token_url: string | null;
  user_info_url: string | null;
  revocation_endpoint: string | null;
  end_session_endpoint: string | null;
  allow_dashboard_login: boolean;
  allow_app_login: boolean;
  required_claims: unknown;
  denied_claims: unknown;
  created_at: string;
  updated_at: string;
  has_secret: boolean;
  tenant_id: string | null;
}

const COLUMNS = `id::text AS id, provider_name, display_name, enabled, client_id, redirect_url, scopes, is_custom, authorization_url, token_url, user_info_url,
  revocation_endpoint, end_session_endpoint, COALESCE(allow_dashboard_login, false) AS allow_dashboard_login, COALESCE(allow_app_login, true) AS allow_app_login,
  required_claims, denied_claims, created_at, updated_at, (client_secret IS NOT NULL AND client_secret != '') AS has_secret, tenant_id::text AS tenant_id`;

/** `map[string][]string` read back: empty or unreadable → omitted. */
function claimsJson(v: unknown): unknown {
  if (!isPlainObject(v) || Object.keys(v).length === 0) return undefined;
  return sortKeys(v);
}

function providerJson(r: ProviderRow, list: boolean): Record<string, unknown> {
  return {
    id: r.id,
    provider_name: r.provider_name,
    display_name: r.display_name,
    enabled: r.enabled === true,
    client_id: r.client_id,
    has_secret: r.has_secret,
    redirect_url: r.redirect_url,
    scopes: r.scopes,
    is_custom: r.is_custom === true,
    authorization_url: r.authorization_url ?? undefined,
    token_url: r.token_url ?? undefined,
    user_info_url: r.user_info_url ?? undefined,
    revocation_endpoint: r.revocation_endpoint ?? undefined,
    end_session_endpoint: r.end_session_endpoint ?? undefined,
    allow_dashboard_login: r.allow_dashboard_login,
    allow_app_login: r.allow_app_login,
    required_claims: claimsJson(r.required_claims),
    denied_claims: claimsJson(r.denied_claims),
    source: list ? 'database' : undefined,
    tenant_id: list ? (r.tenant_id ?? undefined) : undefined,
    created_at: rfc3339(r.created_at),
    updated_at: rfc3339(r.updated_at),
  };
}

/** Config-file providers not already in the database (by name). */
function configProviders(app: EmulatorApp, dbNames: Set<string>): Array<Record<string, unknown>> {
  const now = goNowJson();
  return app.opts.configOAuthProviders
    .filter((cp) => !dbNames.has(cp.provider_name))
    .map((cp) => ({
      id: '00000000-0000-0000-0000-000000000000',
      provider_name: cp.provider_name,
      display_name: cp.display_name || cp.provider_name.charAt(0).toUpperCase() + cp.provider_name.slice(1),
      enabled: cp.enabled ?? true,
      client_id: cp.client_id ?? '',
      has_secret: (cp.client_secret ?? '') !== '',
      redirect_url: `${app.baseUrl}/api/v1/auth/oauth/${cp.provider_name}/callback`,
      scopes: cp.scopes ?? null,
      is_custom: (cp.issuer_url ?? '') !== '',
      allow_dashboard_login: cp.allow_dashboard_login ?? false,
      allow_app_login: cp.allow_app_login ?? true,
      required_claims: claimsJson(cp.required_claims),
      denied_claims: claimsJson(cp.denied_claims),
      source: 'config',
      created_at: now,
      updated_at: now,
    }));
}

/** A `map[string][]string` member bound like Go; throws on a type mismatch. */
function claims(v: Record<string, unknown> | null): Record<string, string[]> | null {
  if (v === null) return null;
  const out: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(v)) {
    if (list === null) continue;
    if (!Array.isArray(list) || list.some((x) => x !== null && typeof x !== 'string')) throw new Error('type mismatch');
    out[k] = list.map((x) => (x === null ? '' : (x as string)));
  }
  return out;
}

const CREATE_SPEC: StructSpec = {
  provider_name: 'string',
  display_name: 'string',
  enabled: 'bool',
  client_id: 'string',
  client_secret: 'string',
  redirect_url: 'string',
  scopes: '[]string',
  is_custom: 'bool',
  authorization_url: '*string',
  token_url: '*string',
  user_info_url: '*string',
  revocation_endpoint: '*string',
  end_session_endpoint: '*string',
  allow_dashboard_login: '*bool',
  allow_app_login: '*bool',
  required_claims: 'map[string]any',
  denied_claims: 'map[string]any',
};

/** Updatable columns in the server's order; `client_secret` is handled apart. */
const UPDATE_FIELDS: Array<[string, '*string' | '*bool' | '[]string' | 'claims']> = [
  ['display_name', '*string'],
  ['enabled', '*bool'],
  ['client_id', '*string'],
  ['redirect_url', '*string'],
  ['scopes', '[]string'],
  ['authorization_url', '*string'],
  ['token_url', '*string'],
  ['user_info_url', '*string'],
  ['revocation_endpoint', '*string'],
  ['end_session_endpoint', '*string'],
  ['allow_dashboard_login', '*bool'],
  ['allow_app_login', '*bool'],
  ['required_claims', 'claims'],
  ['denied_claims', 'claims'],
];

const UPDATE_SPEC: StructSpec = {
  ...Object.fromEntries(UPDATE_FIELDS.map(([name, kind]) => [name, kind === 'claims' ? 'map[string]any' : kind])),
  client_secret: '*string',
};

function providerId(ctx: Ctx): string | undefined {
  const id = ctx.params.id ?? '';
  if (!isUuid(id)) {
    sendCode(ctx, 400, 'Invalid provider ID', 'INVALID_ID');
    return undefined;
  }
  return id;
}

function callerUuid(ctx: Ctx): string | null {
  const uid = ctx.auth?.userId ?? '';
  return isUuid(uid) ? uid : null;
}

/** `time.Format(time.RFC3339)`: whole seconds. */
function rfc3339Seconds(pgText: string): string {
  return rfc3339(pgText).replace(/\.\d+Z$/, 'Z');
}

export function registerOAuthProviders(router: Router, app: EmulatorApp): void {
  const p = `${ADMIN_PREFIX}/oauth/providers`;
  const chain = adminChain(app, ADMIN_ONLY);

  router.add('GET', p, ...chain, async (ctx) => {
    try {
      const rows = (await app.main.query<ProviderRow>(`SELECT ${COLUMNS} FROM platform.oauth_providers ORDER BY display_name`)).rows;
      const listed = rows.map((r) => providerJson(r, true));
      ctx.json(200, [...listed, ...configProviders(app, new Set(rows.map((r) => r.provider_name)))]);
    } catch {
      sendCode(ctx, 500, 'Failed to retrieve OAuth providers', 'INTERNAL_ERROR');
    }
  });

  router.add('GET', `${p}/:id`, ...chain, async (ctx) => {
    const id = providerId(ctx);
    if (!id) return;
    const row = (await app.main.query<ProviderRow>(`SELECT ${COLUMNS} FROM platform.oauth_providers WHERE id = $1::uuid`, [id])).rows[0];
    if (!row) return sendCode(ctx, 404, 'OAuth provider not found', 'NOT_FOUND');
    ctx.json(200, providerJson(row, false));
  });

  router.add('POST', p, ...chain, async (ctx) => {
    const req = parseBody<Record<string, unknown>>(ctx, CREATE_SPEC);
    if (!req) return;
    let required: Record<string, string[]> | null;
    let denied: Record<string, string[]> | null;
    try {
      required = claims(req.required_claims as Record<string, unknown> | null);
      denied = claims(req.denied_claims as Record<string, unknown> | null);
    } catch {
      return sendInvalidBody(ctx);
    }
    const name = req.provider_name as string;
    if (!NAME_RE.test(name)) {
      return sendCode(ctx, 400, 'Provider name must start with a letter and contain only lowercase letters, numbers, and underscores (2-50 chars)', 'INVALID_INPUT');
    }
    if (req.display_name === '' || req.client_id === '' || req.client_secret === '' || req.redirect_url === '') {
      return sendCode(ctx, 400, 'Missing required fields: display_name, client_id, client_secret, redirect_url', 'MISSING_REQUIRED_FIELD');
    }
    if (req.is_custom === true && (req.authorization_url === null || req.token_url === null || req.user_info_url === null)) {
      return sendCode(ctx, 400, 'Custom providers require authorization_url, token_url, and user_info_url', 'MISSING_REQUIRED_FIELD');
    }
    const uid = callerUuid(ctx);
    try {
      const r = await app.main.query<{ id: string; created_at: string; updated_at: string }>(
        `INSERT INTO platform.oauth_providers (provider_name, display_name, enabled, client_id, client_secret, redirect_url, scopes, is_custom, authorization_url, token_url,
           user_info_url, revocation_endpoint, end_session_endpoint, allow_dashboard_login, allow_app_login, required_claims, denied_claims, created_by, updated_by, is_encrypted)
         VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8, $9, $10, $11, $12, $13, $14, $15, $16::jsonb, $17::jsonb, $18::uuid, $18::uuid, true)
         RETURNING id::text AS id, created_at, updated_at`,
        [
          name, req.display_name, req.enabled, req.client_id, app.secrets.seal(req.client_secret as string), req.redirect_url, req.scopes, req.is_custom,
          req.authorization_url, req.token_url, req.user_info_url, req.revocation_endpoint, req.end_session_endpoint,
          req.allow_dashboard_login ?? false, req.allow_app_login ?? true,
          required && Object.keys(required).length > 0 ? JSON.stringify(required) : null,
          denied && Object.keys(denied).length > 0 ? JSON.stringify(denied) : null,
          uid,
        ],
      );
      const row = r.rows[0] as { id: string; created_at: string; updated_at: string };
      ctx.json(201, {
        created_at: rfc3339Seconds(row.created_at),
        id: row.id,
        message: `OAuth provider '${req.display_name as string}' created successfully`,
        provider: name,
        success: true,
        updated_at: rfc3339Seconds(row.updated_at),
      });
    } catch (e) {
      if ((e as { code?: string })?.code === '23505') return sendCode(ctx, 409, `OAuth provider '${name}' already exists`, 'DUPLICATE_KEY');
      app.log(`create OAuth provider failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to create OAuth provider', 'INTERNAL_ERROR');
    }
  });

  router.add('PUT', `${p}/:id`, ...chain, async (ctx) => {
    const id = providerId(ctx);
    if (!id) return;
    const req = parseBody<Record<string, unknown>>(ctx, UPDATE_SPEC);
    if (!req) return;
    if (Object.values(req).every((v) => v === null)) return sendCode(ctx, 400, 'No fields to update', 'INVALID_INPUT');
    const sets: string[] = [];
    const args: unknown[] = [id];
    const add = (column: string, value: unknown, cast = ''): void => {
      args.push(value);
      sets.push(`${column} = $${args.length}${cast}`);
    };
    try {
      for (const [name, kind] of UPDATE_FIELDS) {
        const v = req[name];
        if (v === null || v === undefined) continue;
        if (kind === 'claims') add(name, JSON.stringify(claims(v as Record<string, unknown>)), '::jsonb');
        else if (kind === '[]string') add(name, v, '::text[]');
        else add(name, v);
      }
    } catch {
      return sendInvalidBody(ctx);
    }
    if (typeof req.client_secret === 'string' && req.client_secret !== '') {
      add('client_secret', app.secrets.seal(req.client_secret));
      add('is_encrypted', true);
    }
    add('updated_by', callerUuid(ctx), '::uuid');
    try {
      const r = await app.main.query<{ display_name: string }>(`UPDATE platform.oauth_providers SET ${sets.join(', ')} WHERE id = $1::uuid RETURNING display_name`, args);
      const row = r.rows[0];
      if (!row) return sendCode(ctx, 404, 'OAuth provider not found', 'NOT_FOUND');
      sendSuccess(ctx, `OAuth provider '${row.display_name}' updated successfully`);
    } catch (e) {
      app.log(`update OAuth provider failed: ${(e as Error).message}`);
      sendCode(ctx, 500, 'Failed to update OAuth provider', 'INTERNAL_ERROR');
    }
  });

  router.add('DELETE', `${p}/:id`, ...chain, async (ctx) => {
    const id = providerId(ctx);
    if (!id) return;
    const r = await app.main.query<{ display_name: string }>('DELETE FROM platform.oauth_providers WHERE id = $1::uuid RETURNING display_name', [id]);
    const row = r.rows[0];
    if (!row) return sendCode(ctx, 404, 'OAuth provider not found', 'NOT_FOUND');
    sendSuccess(ctx, `OAuth provider '${row.display_name}' deleted successfully`);
  });
}
