/**
 * `fluxbase-iac/constructs`: declare a Fluxbase instance's desired state as a tree of constructs
 * (the `constructs` library of AWS CDK, CDKTF and cdk8s) and synthesise the same document a
 * fluxbase.config.yaml gives. See docs/constructs.md.
 *
 * ```ts
 * const app = new FluxbaseApp();
 * const acme = new Tenant(app, 'acme', { name: 'Acme Corp' });
 * const tasks = new Table(new Schema(acme, 'app'), 'tasks', { columns: { id: { type: 'uuid', primary_key: true } } });
 * tasks.addPolicy('tasks_read', { command: 'SELECT', using: 'true' });
 * new Webhook(acme, 'task-events', { url: 'https://example.com/hook', secret: Secret.fromEnv('TASKS_SECRET') });
 * await app.synth(); // cdk.out/fluxbase.json
 * ```
 */
export { FluxbaseApp, type FluxbaseAppProps } from './app.js';
export { FluxbaseConstruct, type ResourceConstructKind } from './base.js';
export { Tenant, Schema, type TenantProps, type SchemaProps } from './tenant.js';
export { Table, Policy, type TableProps, type PolicyProps } from './table.js';
export { Webhook, ServiceKey, CustomSetting, type WebhookProps, type ServiceKeyProps, type CustomSettingProps } from './tenant-resources.js';
export { OAuthProvider, ClientKey, type OAuthProviderProps, type ClientKeyProps } from './instance-resources.js';
export {
  AuthSettings,
  AppSettings,
  SystemSetting,
  type AuthSettingsProps,
  type AppSettingsProps,
  type SystemSettingProps,
} from './settings.js';
export { RlsTest, TestFixtures, type RlsTestProps, type TestFixturesProps } from './tests.js';
export { Secret, type WithSecrets } from './secret.js';
export { SynthError, formatConstructDiagnostic, type ConstructDiagnostic } from './diagnostics.js';
export { SYNTH_FILE, resolveOutdir, type SynthOptions, type SynthResult } from './synth.js';
/** Value types of the config, for typing helpers (e.g. a function returning a `Column`). */
export type { Column, Index, Reference, ForeignKeyAction, Lifecycle, Realtime, Rls, Metadata, ClientKeyScope, FixtureRow, TestCase, TestExpectation } from '../model/config.generated.js';
/** Every generated config type (`config.Table`, `config.Webhook`, …), named as in the JSON Schema. */
export type * as config from '../model/config.generated.js';
