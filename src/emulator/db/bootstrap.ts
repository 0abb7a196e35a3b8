/**
 * Bootstrap SQL of every emulated database, written for the emulator from the facts the real
 * server establishes (schemas, RLS roles, grants, `auth.uid()`, the realtime registry). It is not
 * the real server's bootstrap file.
 *
 * - {@link ROLES_SQL}: cluster-wide roles (run once per PostgreSQL cluster, tolerant of races).
 * - {@link DATABASE_BOOTSTRAP_SQL}: per-database objects; baked into the template database.
 * - {@link CONTROL_PLANE_SQL}: tables only the main database holds (tenants, dashboard users,
 *   migrations registry, webhooks).
 */
import { createHash } from 'node:crypto';

/** Fluxbase's internal schemas, created in every database (plus `public`). */
export const INTERNAL_SCHEMAS = [
  'auth', 'app', 'functions', 'storage', 'realtime', 'jobs', 'ai', 'rpc', 'logging', 'branching', 'mcp', 'platform',
] as const;

/** RLS roles the server relies on. */
export const CLUSTER_ROLES: Array<{ name: string; attrs: string }> = [
  { name: 'anon', attrs: 'NOLOGIN NOINHERIT' },
  { name: 'authenticated', attrs: 'NOLOGIN NOINHERIT' },
  { name: 'service_role', attrs: 'NOLOGIN NOINHERIT BYPASSRLS' },
  { name: 'tenant_service', attrs: 'NOLOGIN NOINHERIT NOBYPASSRLS' },
  { name: 'tenant_migration_role', attrs: 'NOLOGIN NOINHERIT NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS' },
];

/** One `CREATE ROLE` per role, each guarded by an existence check. */
export function roleStatements(): string[] {
  return CLUSTER_ROLES.map(
    (r) => `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '${r.name}') THEN
    CREATE ROLE ${r.name} ${r.attrs};
  END IF;
END $$;`,
  );
}

/**
 * Per-database bootstrap. Objects created here are owned by the connecting (admin) user, as DDL
 * of the real server is. Notable facts reproduced:
 * - `service_role`, `anon`, `authenticated` have USAGE on `public` but (PostgreSQL 15+) no CREATE;
 * - default privileges give `service_role` and `tenant_migration_role` ALL on future `public`
 *   tables created by the admin user, and nothing to `authenticated`; in the internal schemas
 *   `authenticated` may read and write new tables (read only in jobs and ai);
 * - `tenant_migration_role` has USAGE and CREATE on `public` only.
 */
export const DATABASE_BOOTSTRAP_SQL = `
CREATE EXTENSION IF NOT EXISTS plpgsql;
${INTERNAL_SCHEMAS.map((s) => `CREATE SCHEMA IF NOT EXISTS ${s};`).join('\n')}

GRANT USAGE ON SCHEMA auth, app, storage, functions, realtime, ai, mcp, public TO anon, authenticated, service_role;
GRANT USAGE ON SCHEMA jobs, rpc, platform TO authenticated, service_role;
GRANT USAGE ON SCHEMA branching, logging TO service_role;
GRANT USAGE, CREATE ON SCHEMA public TO tenant_migration_role;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO service_role, tenant_migration_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO service_role, tenant_migration_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO service_role, tenant_migration_role;
-- Default privileges of the internal schemas, as the real bootstrap sets them
-- (internal/database/bootstrap/bootstrap.sql:204-294): authenticated may read and write new tables
-- in auth, app, storage, functions, realtime and mcp, and read those in jobs and ai.
${['auth', 'app', 'storage', 'functions', 'realtime', 'mcp'].map((s) => `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO authenticated;`).join('\n')}
${['jobs', 'ai'].map((s) => `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT ON TABLES TO authenticated;`).join('\n')}
${['auth', 'app', 'storage', 'functions', 'realtime', 'mcp', 'jobs', 'ai', 'rpc', 'branching', 'logging'].map((s) => `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT ALL ON TABLES TO service_role;`).join('\n')}

-- JWT claims of the current request, as set by set_config('request.jwt.claims', …, true).
CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  RETURN coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb;
EXCEPTION WHEN OTHERS THEN
  RETURN '{}'::jsonb;
END $fn$;

-- The caller's user id (claim "sub"); NULL when absent or not a uuid.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE plpgsql STABLE AS $fn$
BEGIN
  RETURN nullif(auth.jwt() ->> 'sub', '')::uuid;
EXCEPTION WHEN OTHERS THEN
  RETURN NULL;
END $fn$;

-- The caller's role claim, or NULL.
CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE AS $fn$ SELECT nullif(auth.jwt() ->> 'role', '') $fn$;

-- The caller's email claim, or NULL.
CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE AS $fn$ SELECT nullif(auth.jwt() ->> 'email', '') $fn$;

GRANT EXECUTE ON FUNCTION auth.jwt(), auth.uid(), auth.role(), auth.email() TO anon, authenticated, service_role, tenant_migration_role;

-- Application users (a subset of the real auth.users); role 'admin' / 'service_role' promotes
-- an 'authenticated' JWT on the admin API.
CREATE TABLE IF NOT EXISTS auth.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text UNIQUE,
  role text NOT NULL DEFAULT 'authenticated',
  raw_user_meta_data jsonb NOT NULL DEFAULT '{}'::jsonb,
  app_metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Tables whose changes are broadcast (POST /api/v1/admin/realtime/tables).
CREATE TABLE IF NOT EXISTS realtime.schema_registry (
  id serial PRIMARY KEY,
  schema_name text NOT NULL,
  table_name text NOT NULL,
  realtime_enabled boolean DEFAULT true,
  events text[] DEFAULT ARRAY['INSERT', 'UPDATE', 'DELETE'],
  created_at timestamptz DEFAULT now(),
  updated_at timestamptz DEFAULT now(),
  excluded_columns text[] DEFAULT '{}',
  tenant_id uuid,
  UNIQUE (schema_name, table_name)
);

-- Trigger function installed as <table>_realtime_notify: publishes the change on channel
-- 'realtime' (payload: schema, table, type, record, old_record), honouring the registry.
CREATE OR REPLACE FUNCTION public.notify_realtime_change() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  reg realtime.schema_registry%ROWTYPE;
  rec jsonb;
  old_rec jsonb;
  col text;
BEGIN
  SELECT * INTO reg FROM realtime.schema_registry
   WHERE schema_name = TG_TABLE_SCHEMA AND table_name = TG_TABLE_NAME;
  IF NOT FOUND OR reg.realtime_enabled IS NOT TRUE OR NOT (TG_OP = ANY (coalesce(reg.events, ARRAY[]::text[]))) THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'DELETE' THEN rec := to_jsonb(NEW); END IF;
  IF TG_OP <> 'INSERT' THEN old_rec := to_jsonb(OLD); END IF;
  FOREACH col IN ARRAY coalesce(reg.excluded_columns, ARRAY[]::text[]) LOOP
    rec := rec - col;
    old_rec := old_rec - col;
  END LOOP;
  PERFORM pg_notify('realtime', jsonb_build_object(
    'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME, 'type', TG_OP,
    'record', rec, 'old_record', old_rec)::text);
  RETURN NULL;
END $fn$;
GRANT EXECUTE ON FUNCTION public.notify_realtime_change() TO anon, authenticated, service_role;

CREATE TABLE IF NOT EXISTS platform.emulator_bootstrap (
  version text PRIMARY KEY,
  bootstrapped_at timestamptz NOT NULL DEFAULT now()
);
`;

/**
 * Control-plane tables of the main database. Column sets follow what the API exposes; names,
 * constraints and indexes that change API behaviour follow the real server (`platform.tenants`,
 * `platform.users`, `platform.migrations`, `platform.migration_execution_logs`, `auth.webhooks`,
 * `auth.webhook_deliveries`, `auth.service_keys`, `auth.client_keys`, `app.settings`,
 * `platform.oauth_providers`). Every statement is idempotent: the script runs at every start.
 */
export const CONTROL_PLANE_SQL = `
-- Idempotency records (F10): the full response of every request sent with an Idempotency-Key,
-- kept 24 h (internal/middleware/idempotency.go:187-270, 361-378).
CREATE TABLE IF NOT EXISTS platform.idempotency_keys (
  key text PRIMARY KEY,
  method text NOT NULL,
  path text NOT NULL,
  request_hash text NOT NULL DEFAULT '',
  status text NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
  response_status integer,
  response_headers jsonb,
  response_body bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS platform.tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  db_name text,
  status text NOT NULL DEFAULT 'creating' CHECK (status IN ('creating', 'active', 'deleting', 'error')),
  is_default boolean NOT NULL DEFAULT false,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE IF NOT EXISTS platform.users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  password_hash text NOT NULL,
  full_name text,
  avatar_url text,
  role text NOT NULL DEFAULT 'tenant_admin',
  email_verified boolean NOT NULL DEFAULT false,
  totp_enabled boolean NOT NULL DEFAULT false,
  is_active boolean NOT NULL DEFAULT true,
  is_locked boolean NOT NULL DEFAULT false,
  locked_until timestamptz,
  failed_login_attempts integer NOT NULL DEFAULT 0,
  last_login_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT users_email_key UNIQUE (email)
);

CREATE TABLE IF NOT EXISTS platform.tenant_admin_assignments (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES platform.tenants (id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES platform.users (id) ON DELETE CASCADE,
  assigned_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, user_id)
);


CREATE TABLE IF NOT EXISTS platform.migrations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  namespace text NOT NULL DEFAULT 'default',
  name text NOT NULL,
  description text,
  up_sql text NOT NULL,
  down_sql text,
  version integer DEFAULT 1,
  status text DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'failed', 'rolled_back')),
  created_by uuid,
  applied_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  applied_at timestamptz,
  rolled_back_at timestamptz,
  CONSTRAINT unique_migration_namespace UNIQUE (namespace, name)
);

CREATE TABLE IF NOT EXISTS platform.migration_execution_logs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  migration_id uuid NOT NULL REFERENCES platform.migrations (id) ON DELETE CASCADE,
  action text NOT NULL CHECK (action IN ('apply', 'rollback')),
  status text NOT NULL CHECK (status IN ('success', 'failed')),
  duration_ms integer,
  error_message text,
  logs text,
  executed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  executed_by uuid,
  tenant_id uuid
);

CREATE TABLE IF NOT EXISTS auth.webhooks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text,
  url text NOT NULL,
  secret text,
  enabled boolean DEFAULT true,
  events jsonb,
  max_retries integer DEFAULT 3,
  retry_backoff_seconds integer DEFAULT 5,
  timeout_seconds integer DEFAULT 30,
  headers jsonb,
  scope text DEFAULT 'user' CHECK (scope IN ('user', 'global')),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  tenant_id uuid
);

CREATE OR REPLACE FUNCTION auth.webhooks_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $fn$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $fn$;
DROP TRIGGER IF EXISTS webhooks_updated_at ON auth.webhooks;
CREATE TRIGGER webhooks_updated_at BEFORE UPDATE ON auth.webhooks
  FOR EACH ROW EXECUTE FUNCTION auth.webhooks_touch_updated_at();

CREATE TABLE IF NOT EXISTS auth.webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id uuid NOT NULL REFERENCES auth.webhooks (id) ON DELETE CASCADE,
  event text NOT NULL,
  payload jsonb,
  status text NOT NULL DEFAULT 'pending',
  status_code integer,
  response_body text,
  error text,
  attempt integer NOT NULL DEFAULT 1,
  delivered_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Webhook triggers (F7, keys doc §3.4): a webhook's events install one AFTER trigger per watched
-- table, reference-counted. As on the server, the trigger is installed on schema.table (a bare
-- name meaning auth.<name>), the trigger function matches events by the BARE table name only,
-- reads NEW.id / OLD.id (a watched table without an id column fails every write), and queues
-- one row per interested enabled webhook, filtered by scope.
CREATE TABLE IF NOT EXISTS auth.webhook_monitored_tables (
  schema_name text NOT NULL,
  table_name text NOT NULL,
  webhook_count integer NOT NULL DEFAULT 0,
  PRIMARY KEY (schema_name, table_name)
);

CREATE TABLE IF NOT EXISTS auth.webhook_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  webhook_id uuid NOT NULL,
  event_type text NOT NULL,
  table_schema text NOT NULL,
  table_name text NOT NULL,
  record_id text,
  old_data jsonb,
  new_data jsonb,
  next_retry_at timestamptz,
  tenant_id uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE OR REPLACE FUNCTION auth.queue_webhook_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = auth AS $fn$
DECLARE
  w record;
  row_new jsonb;
  row_old jsonb;
  rid text;
  owner uuid;
BEGIN
  IF TG_OP = 'INSERT' THEN row_new := to_jsonb(NEW); rid := coalesce(NEW.id::text, '');
  ELSIF TG_OP = 'UPDATE' THEN row_new := to_jsonb(NEW); row_old := to_jsonb(OLD); rid := coalesce(NEW.id::text, OLD.id::text, '');
  ELSE row_old := to_jsonb(OLD); rid := coalesce(OLD.id::text, '');
  END IF;
  BEGIN
    owner := coalesce((coalesce(row_new, row_old) ->> 'user_id')::uuid, (coalesce(row_new, row_old) ->> 'owner_id')::uuid,
                      (coalesce(row_new, row_old) ->> 'created_by')::uuid);
  EXCEPTION WHEN others THEN owner := NULL;
  END;
  FOR w IN SELECT id, events, created_by, scope, tenant_id FROM auth.webhooks
            WHERE enabled AND (scope = 'global' OR created_by IS NULL OR owner IS NULL OR created_by = owner) LOOP
    IF jsonb_typeof(w.events) = 'array' AND EXISTS (
         SELECT 1 FROM jsonb_array_elements(w.events) AS e
          WHERE (e ->> 'table' = TG_TABLE_NAME OR e ->> 'table' = '*')
            AND (e -> 'operations' @> to_jsonb(ARRAY[TG_OP]) OR e -> 'operations' @> '["*"]'::jsonb)) THEN
      INSERT INTO auth.webhook_events (webhook_id, event_type, table_schema, table_name, record_id, old_data, new_data, next_retry_at, tenant_id)
      VALUES (w.id, TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME, rid, row_old, row_new, clock_timestamp(), w.tenant_id);
    END IF;
  END LOOP;
  RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION auth.increment_webhook_table_count(p_schema text, p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = auth AS $fn$
DECLARE n integer;
BEGIN
  INSERT INTO auth.webhook_monitored_tables AS m (schema_name, table_name, webhook_count) VALUES (p_schema, p_table, 1)
  ON CONFLICT (schema_name, table_name) DO UPDATE SET webhook_count = m.webhook_count + 1
  RETURNING webhook_count INTO n;
  IF n = 1 THEN
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'webhook_trigger_' || p_schema || '_' || p_table, p_schema, p_table);
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW EXECUTE FUNCTION auth.queue_webhook_event()',
                   'webhook_trigger_' || p_schema || '_' || p_table, p_schema, p_table);
  END IF;
END $fn$;

CREATE OR REPLACE FUNCTION auth.decrement_webhook_table_count(p_schema text, p_table text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = auth AS $fn$
DECLARE n integer;
BEGIN
  UPDATE auth.webhook_monitored_tables SET webhook_count = greatest(0, webhook_count - 1)
   WHERE schema_name = p_schema AND table_name = p_table RETURNING webhook_count INTO n;
  IF n = 0 THEN
    EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', 'webhook_trigger_' || p_schema || '_' || p_table, p_schema, p_table);
    DELETE FROM auth.webhook_monitored_tables WHERE schema_name = p_schema AND table_name = p_table;
  END IF;
END $fn$;

-- Service keys (keys doc §1). Names are unique per tenant (500 on duplicates); revoked_by
-- references platform.users (a caller without a dashboard user cannot revoke: FK → 500).
CREATE TABLE IF NOT EXISTS auth.service_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text,
  key_hash text NOT NULL,
  key_prefix text NOT NULL CONSTRAINT service_keys_key_prefix_key UNIQUE,
  scopes text[] DEFAULT ARRAY['*'],
  enabled boolean DEFAULT true,
  created_by uuid,
  created_at timestamptz DEFAULT clock_timestamp(),
  last_used_at timestamptz,
  expires_at timestamptz,
  rate_limit_per_minute integer,
  rate_limit_per_hour integer,
  allowed_namespaces text[],
  revoked_at timestamptz,
  revoked_by uuid CONSTRAINT service_keys_revoked_by_fkey REFERENCES platform.users (id) ON DELETE SET NULL,
  revocation_reason text,
  deprecated_at timestamptz,
  grace_period_ends_at timestamptz,
  replaced_by uuid CONSTRAINT service_keys_replaced_by_fkey REFERENCES auth.service_keys (id) ON DELETE SET NULL,
  key_type text NOT NULL DEFAULT 'service'
    CONSTRAINT auth_service_keys_key_type_check CHECK (key_type IN ('anon', 'service', 'publishable', 'tenant_service', 'global_service')),
  tenant_id uuid CONSTRAINT fk_auth_service_keys_tenant REFERENCES platform.tenants (id) ON DELETE SET NULL DEFERRABLE
);
CREATE UNIQUE INDEX IF NOT EXISTS auth_service_keys_name_tenant_null_unique ON auth.service_keys (name) WHERE tenant_id IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS auth_service_keys_name_tenant_unique ON auth.service_keys (tenant_id, name) WHERE tenant_id IS NOT NULL;

-- Client keys (keys doc §2); updated_at is bumped by a trigger on every update (last_used_at too).
CREATE TABLE IF NOT EXISTS auth.client_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text,
  key_hash text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  user_id uuid REFERENCES auth.users (id) ON DELETE CASCADE,
  scopes text[] DEFAULT ARRAY[]::text[],
  rate_limit_per_minute integer DEFAULT 60,
  last_used_at timestamptz,
  expires_at timestamptz,
  revoked boolean DEFAULT false,
  revoked_at timestamptz,
  revoked_by uuid,
  tenant_id uuid,
  created_at timestamptz DEFAULT clock_timestamp(),
  updated_at timestamptz DEFAULT clock_timestamp(),
  allowed_namespaces text[]
);
CREATE OR REPLACE FUNCTION auth.client_keys_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $fn$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $fn$;
DROP TRIGGER IF EXISTS update_auth_client_keys_updated_at ON auth.client_keys;
CREATE TRIGGER update_auth_client_keys_updated_at BEFORE UPDATE ON auth.client_keys
  FOR EACH ROW EXECUTE FUNCTION auth.client_keys_touch_updated_at();

-- One table for app, system, auth, custom and secret settings (keys doc §4–§6, §9). Keys are
-- unique across the instance for rows without a user (custom keys included → 409).
CREATE TABLE IF NOT EXISTS app.settings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key text NOT NULL,
  value jsonb NOT NULL,
  value_type text NOT NULL DEFAULT 'string'
    CONSTRAINT settings_value_type_check CHECK (value_type IN ('string', 'number', 'boolean', 'json', 'array')),
  category text NOT NULL DEFAULT 'custom'
    CONSTRAINT settings_category_check CHECK (category IN ('auth', 'system', 'storage', 'functions', 'realtime', 'custom')),
  description text,
  is_public boolean DEFAULT false,
  is_secret boolean DEFAULT false,
  editable_by text[] NOT NULL DEFAULT ARRAY['instance_admin'],
  metadata jsonb DEFAULT '{}',
  created_by uuid,
  updated_by uuid,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  encrypted_value text,
  user_id uuid,
  tenant_id uuid
);
CREATE UNIQUE INDEX IF NOT EXISTS idx_app_settings_key_user ON app.settings (key, COALESCE(user_id, '00000000-0000-0000-0000-000000000000'::uuid));
CREATE UNIQUE INDEX IF NOT EXISTS idx_app_settings_system_key ON app.settings (key) WHERE user_id IS NULL;

-- Earlier emulator versions kept setup completion in platform.system_settings.
DO $$ BEGIN
  IF to_regclass('platform.system_settings') IS NOT NULL THEN
    INSERT INTO app.settings (key, value, description, category)
      SELECT 'setup_completed', jsonb_build_object('completed', true), 'Tracks initial setup completion', 'system'
        FROM platform.system_settings WHERE key = 'setup_completed'
      ON CONFLICT DO NOTHING;
    DROP TABLE platform.system_settings;
  END IF;
END $$;

-- OAuth providers (keys doc §8). NULL tenant ids are distinct, so duplicate names are accepted.
CREATE TABLE IF NOT EXISTS platform.oauth_providers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider_name text NOT NULL,
  display_name text NOT NULL DEFAULT '',
  client_id text NOT NULL,
  client_secret text NOT NULL,
  redirect_url text NOT NULL,
  scopes text[] DEFAULT ARRAY[]::text[],
  enabled boolean DEFAULT true,
  is_custom boolean DEFAULT false,
  authorization_url text,
  token_url text,
  user_info_url text,
  metadata jsonb DEFAULT '{}',
  created_by uuid,
  updated_by uuid,
  created_at timestamptz DEFAULT clock_timestamp(),
  updated_at timestamptz DEFAULT clock_timestamp(),
  allow_dashboard_login boolean DEFAULT false,
  allow_app_login boolean DEFAULT true,
  required_claims jsonb,
  denied_claims jsonb,
  is_encrypted boolean DEFAULT false,
  revocation_endpoint text,
  end_session_endpoint text,
  tenant_id uuid,
  CONSTRAINT oauth_providers_provider_name_tenant_id_key UNIQUE (provider_name, tenant_id)
);
CREATE OR REPLACE FUNCTION platform.oauth_providers_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $fn$ BEGIN NEW.updated_at := clock_timestamp(); RETURN NEW; END $fn$;
DROP TRIGGER IF EXISTS update_platform_oauth_providers_updated_at ON platform.oauth_providers;
CREATE TRIGGER update_platform_oauth_providers_updated_at BEFORE UPDATE ON platform.oauth_providers
  FOR EACH ROW EXECUTE FUNCTION platform.oauth_providers_touch_updated_at();

-- The server grants service_role every control-plane table (platform.sql:1697-2256; auth's
-- default privileges, bootstrap.sql): /sql/execute run as service_role (an instance_admin
-- without X-FB-Tenant) can read platform.tenants, platform.idempotency_keys, auth.webhook_events.
GRANT ALL ON ALL TABLES IN SCHEMA platform TO service_role;
GRANT ALL ON ALL TABLES IN SCHEMA auth TO service_role;
`;

/** Version stamp of the template: changes whenever the bootstrap SQL changes. */
export const BOOTSTRAP_VERSION = createHash('sha256')
  .update(roleStatements().join('\n'))
  .update(DATABASE_BOOTSTRAP_SQL)
  .digest('hex')
  .slice(0, 12);

/** Full template script (roles are included for PGlite, where each instance has its own). */
export function templateScript(includeRoles: boolean): string {
  const parts = includeRoles ? [...roleStatements()] : [];
  parts.push(DATABASE_BOOTSTRAP_SQL);
  parts.push(`INSERT INTO platform.emulator_bootstrap (version) VALUES ('${BOOTSTRAP_VERSION}') ON CONFLICT DO NOTHING;`);
  return parts.join('\n');
}

/** Schemas present in every fresh database, sorted (what GET /ddl/schemas lists). */
export const FRESH_SCHEMAS = [...INTERNAL_SCHEMAS, 'public'].sort();
