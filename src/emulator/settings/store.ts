/**
 * The `app.settings` table shared by app, system, auth, custom and secret settings
 * (`internal/auth/system_settings.go`; keys doc §4–§6, §9). System rows are written without a
 * tenant (instance-global); custom and secret rows carry the caller's tenant.
 */
import type { EmulatorApp } from '../app.js';
import type { Sql } from '../db/types.js';
import { envBool, envInt } from './env.js';

export interface SettingRow {
  id: string;
  key: string;
  value: unknown;
  value_type: string;
  category: string;
  description: string | null;
  is_secret: boolean;
  editable_by: string[];
  metadata: unknown;
  created_by: string | null;
  updated_by: string | null;
  created_at: string;
  updated_at: string;
  user_id: string | null;
  tenant_id: string | null;
}

export const SETTING_COLUMNS =
  'id::text AS id, key, value, value_type, category, description, is_secret, editable_by, metadata, created_by::text AS created_by, updated_by::text AS updated_by, created_at, updated_at, user_id::text AS user_id, tenant_id::text AS tenant_id';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A row's value as the system-settings service reads it (`map[string]interface{}`): an object as
 * is, JSON `null` as null, any other (legacy raw) value wrapped as `{"value": raw}`.
 */
export function systemValue(raw: unknown): Record<string, unknown> | null {
  if (raw === null) return null;
  return isPlainObject(raw) ? raw : { value: raw };
}

/** `value.value` of a row value, undefined when absent. */
export function innerValue(raw: unknown): unknown {
  const v = systemValue(raw);
  return v === null ? undefined : v.value;
}

/**
 * `SetSetting`: upsert of an instance-global row (`category 'system'`, no tenant). An existing row
 * with the key (any category, any tenant) gets the new value and description.
 */
export async function upsertSystemSetting(db: Sql, key: string, value: unknown, description: string): Promise<void> {
  await db.query(
    `INSERT INTO app.settings (key, value, description, category) VALUES ($1, $2::jsonb, $3, 'system')
     ON CONFLICT (key) WHERE user_id IS NULL DO UPDATE SET value = EXCLUDED.value, description = EXCLUDED.description, updated_at = clock_timestamp()`,
    [key, JSON.stringify(value ?? null), description],
  );
}

/** `ListSettings`: every row, ordered by key. */
export async function listAllSettings(db: Sql): Promise<SettingRow[]> {
  return (await db.query<SettingRow>(`SELECT ${SETTING_COLUMNS} FROM app.settings ORDER BY key`)).rows;
}

/** `GetSetting`: the first row with the key (no tenant filter). */
export async function getSettingRow(db: Sql, key: string): Promise<SettingRow | undefined> {
  return (await db.query<SettingRow>(`SELECT ${SETTING_COLUMNS} FROM app.settings WHERE key = $1 LIMIT 1`, [key])).rows[0];
}

/**
 * `SettingsCache.GetBool`: the environment first, then the row's `value.value` when it is a
 * boolean, else the default.
 */
export async function readBoolSetting(app: EmulatorApp, key: string, def: boolean): Promise<boolean> {
  const env = app.env.valueOf(key);
  if (env !== undefined) return envBool(env);
  const row = await getSettingRow(app.main, key);
  const v = row ? innerValue(row.value) : undefined;
  return typeof v === 'boolean' ? v : def;
}

/** `SettingsCache.GetInt` (a non-numeric environment value falls through to the database). */
export async function readIntSetting(app: EmulatorApp, key: string, def: number): Promise<number> {
  const env = app.env.valueOf(key);
  const parsed = env === undefined ? undefined : envInt(env);
  if (parsed !== undefined) return parsed;
  const row = await getSettingRow(app.main, key);
  const v = row ? innerValue(row.value) : undefined;
  return typeof v === 'number' ? Math.trunc(v) : def;
}

/** `SettingsCache.GetString`. */
export async function readStringSetting(app: EmulatorApp, key: string, def: string): Promise<string> {
  const env = app.env.valueOf(key);
  if (env !== undefined) return env;
  const row = await getSettingRow(app.main, key);
  const v = row ? innerValue(row.value) : undefined;
  return typeof v === 'string' ? v : def;
}
