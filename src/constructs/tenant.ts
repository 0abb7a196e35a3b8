/** Tenant and Schema constructs: the scopes that tenant resources and tables live in. */
import type { Schema as SchemaConfig, Tenant as TenantConfig } from '../model/config.generated.js';
import { FluxbaseConstruct } from './base.js';
import type { FluxbaseApp } from './app.js';

/**
 * Props of a {@link Tenant}: the config's `Tenant` without the collections that are child
 * constructs (`schemas`, `webhooks`, `service_keys`, `settings`): `name`, `metadata`, `lifecycle`.
 */
export interface TenantProps extends Omit<TenantConfig, 'schemas' | 'webhooks' | 'service_keys' | 'settings'> {}

/**
 * A tenant, `tenants.<slug>` in the config. The slug `default` is the instance's built-in tenant.
 * Children: {@link Schema}, Webhook, ServiceKey, CustomSetting.
 */
export class Tenant extends FluxbaseConstruct {
  /** True for a Tenant from any copy of this library. */
  static isTenant(x: unknown): x is Tenant {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'tenant';
  }

  declare readonly kind: 'tenant';

  /** @param slug the tenant slug (1-63 characters of a-z, 0-9 and '-'). */
  constructor(scope: FluxbaseApp, slug: string, props: TenantProps = {}) {
    super(scope, slug, 'tenant', props);
  }
}

/** Props of a {@link Schema}: the config's schema entry without `tables` (Table constructs). */
export interface SchemaProps extends Omit<SchemaConfig, 'tables'> {}

/** A database schema of a tenant, `tenants.<slug>.schemas.<name>`. Children: Table. */
export class Schema extends FluxbaseConstruct {
  /** True for a Schema from any copy of this library. */
  static isSchema(x: unknown): x is Schema {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'schema';
  }

  declare readonly kind: 'schema';

  /** @param name a lower-case PostgreSQL identifier. */
  constructor(scope: Tenant, name: string, props: SchemaProps = {}) {
    super(scope, name, 'schema', props);
  }
}
