import { describe, expect, expectTypeOf, it } from 'vitest';
import { PLACEMENTS, placementPattern, type ResourceConstructKind } from '../../src/constructs/base.js';
import type {
  AppSettingsProps,
  ClientKeyProps,
  CustomSettingProps,
  OAuthProviderProps,
  PolicyProps,
  Secret,
  ServiceKeyProps,
  TableProps,
  TenantProps,
  WebhookProps,
} from '../../src/constructs/index.js';
import { SECRET_PROPS, writeOnlyPatterns } from '../../src/constructs/write-only.js';
import type { ClientKey, CustomSetting, OAuthProvider, Policy, ServiceKey, Table, Tenant, Webhook } from '../../src/model/config.generated.js';
import { loadSchemas } from '../../src/engine/schema.js';

describe('props derived from the config schema', () => {
  it('type exactly the Secret props the schema marks writeOnly', () => {
    const fromConstructs = Object.entries(SECRET_PROPS)
      .flatMap(([kind, props]) => props.map((p) => [...placementPattern(kind as ResourceConstructKind), ...p.split('.')].join('/')))
      .sort();
    expect(fromConstructs).toEqual(writeOnlyPatterns().map((p) => p.join('/')));
    expect(fromConstructs).toContain('tenants/*/webhooks/*/secret');
  });

  it('place every kind where the schema puts it', () => {
    const schemas = loadSchemas();
    const root = schemas.get('fluxbase.config.schema.json') as { properties: Record<string, unknown> };
    const tenant = schemas.get('tenant.schema.json') as { properties: Record<string, unknown> };
    for (const kind of Object.keys(PLACEMENTS) as ResourceConstructKind[]) {
      const [first, , second] = placementPattern(kind);
      if (placementPattern(kind)[0] === 'tenants' && kind !== 'tenant') expect(Object.keys(tenant.properties)).toContain(second);
      expect(Object.keys(root.properties)).toContain(first);
    }
  });

  it('are the generated config types, with write-only strings replaced by Secret', () => {
    // Checked by `tsc -p tsconfig.json` (vitest does not type-check); the runtime assertion keeps the test honest.
    expectTypeOf<TableProps>().toEqualTypeOf<Table & {}>();
    expectTypeOf<PolicyProps>().toEqualTypeOf<Policy & {}>();
    expectTypeOf<ServiceKeyProps>().toEqualTypeOf<ServiceKey & {}>();
    expectTypeOf<ClientKeyProps>().toEqualTypeOf<ClientKey & {}>();
    expectTypeOf<TenantProps>().toEqualTypeOf<Omit<Tenant, 'schemas' | 'webhooks' | 'service_keys' | 'settings'>>();
    expectTypeOf<WebhookProps['secret']>().toEqualTypeOf<Secret | undefined>();
    expectTypeOf<Omit<WebhookProps, 'secret'>>().toEqualTypeOf<Omit<Webhook, 'secret'>>();
    expectTypeOf<OAuthProviderProps['client_secret']>().toEqualTypeOf<Secret>();
    expectTypeOf<Omit<OAuthProviderProps, 'client_secret'>>().toEqualTypeOf<Omit<OAuthProvider, 'client_secret'>>();
    expectTypeOf<CustomSettingProps['secret']>().toEqualTypeOf<Secret | undefined>();
    expectTypeOf<Omit<CustomSettingProps, 'secret'>>().toEqualTypeOf<Omit<CustomSetting, 'secret'>>();
    type Smtp = NonNullable<NonNullable<AppSettingsProps['email']>['smtp']>;
    expectTypeOf<Smtp['password']>().toEqualTypeOf<Secret | undefined>();
    expectTypeOf<Smtp['host']>().toEqualTypeOf<string | undefined>();
    expect(Object.keys(SECRET_PROPS)).toEqual(['webhook', 'oauth_provider', 'custom_setting', 'app_settings']);
  });
});
