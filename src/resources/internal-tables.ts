/**
 * Fluxbase's own tables: the tables the server creates in its internal schemas
 * (internal/database/schema/schemas/*.sql of nimbleflux/fluxbase at 4b44e727, plus the bootstrap
 * bookkeeping tables), and the one the local emulator adds. Users may create tables of their own
 * in the same schemas (`app.posts`); those are not listed here, so `fluxbase export` declares them
 * like any other table and leaves these out.
 */

/** Fluxbase's own tables by internal schema. */
export const FLUXBASE_OWN_TABLES: Readonly<Record<string, readonly string[]>> = {
  ai: [
    'chatbot_knowledge_bases', 'chatbots', 'chunks', 'conversations', 'document_entities', 'document_permissions', 'documents',
    'entities', 'entity_relationships', 'knowledge_base_permissions', 'knowledge_bases', 'messages', 'providers',
    'query_audit_log', 'retrieval_log', 'table_export_sync_configs', 'user_chatbot_usage', 'user_provider_preferences', 'user_quotas',
  ],
  app: ['settings'],
  auth: [
    'captcha_challenges', 'captcha_trust_tokens', 'client_key_usage', 'client_keys', 'email_verification_tokens',
    'emergency_revocation', 'impersonation_sessions', 'magic_links', 'mcp_oauth_clients', 'mcp_oauth_codes', 'mcp_oauth_tokens',
    'mfa_factors', 'nonces', 'oauth_links', 'oauth_logout_states', 'oauth_states', 'oauth_tokens', 'otp_codes',
    'password_reset_tokens', 'rls_audit_log', 'saml_assertion_ids', 'saml_providers', 'saml_sessions', 'service_key_revocations',
    'service_keys', 'sessions', 'token_blacklist', 'two_factor_recovery_attempts', 'two_factor_setups', 'user_trust_signals',
    'users', 'webhook_deliveries', 'webhook_events', 'webhook_monitored_tables', 'webhooks',
  ],
  branching: ['activity_log', 'branch_access', 'branches', 'github_config', 'migration_history', 'seed_execution_log'],
  functions: ['edge_executions', 'edge_files', 'edge_functions', 'edge_triggers', 'function_dependencies', 'secret_versions', 'secrets', 'shared_modules'],
  jobs: ['function_files', 'functions', 'queue', 'workers'],
  logging: ['entries', 'entries_ai', 'entries_custom', 'entries_execution', 'entries_http', 'entries_security', 'entries_system'],
  mcp: ['custom_resources', 'custom_tools'],
  platform: [
    'activity_log', 'available_extensions', 'bootstrap_state', 'declarative_state', 'email_templates', 'email_verification_tokens',
    'enabled_extensions', 'fluxbase_migrations', 'idempotency_keys', 'instance_settings', 'invitation_tokens', 'key_usage',
    'migration_execution_logs', 'migrations', 'oauth_providers', 'password_reset_tokens', 'rate_limits', 'schema_migrations',
    'service_keys', 'sessions', 'sso_identities', 'tenant_admin_assignments', 'tenant_memberships', 'tenants', 'users',
    // the local emulator's bootstrap bookkeeping (src/emulator/db/bootstrap.ts)
    'emulator_bootstrap',
  ],
  realtime: ['schema_registry'],
  rpc: ['executions', 'procedures'],
  storage: ['buckets', 'chunked_upload_sessions', 'object_permissions', 'objects'],
};

const OWN_TABLES: ReadonlySet<string> = new Set(Object.entries(FLUXBASE_OWN_TABLES).flatMap(([schema, tables]) => tables.map((t) => `${schema}.${t}`)));

/** True for a table Fluxbase itself creates and owns (`auth.users`, `app.settings`, …). */
export function isFluxbaseTable(schema: string, table: string): boolean {
  return OWN_TABLES.has(`${schema}.${table}`) || (schema === 'logging' && table.startsWith('entries_'));
}
