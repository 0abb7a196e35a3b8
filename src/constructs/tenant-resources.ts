/** Constructs that live in a Tenant: Webhook, ServiceKey, CustomSetting. */
import type { CustomSetting as CustomSettingConfig, ServiceKey as ServiceKeyConfig, Webhook as WebhookConfig } from '../model/config.generated.js';
import { FluxbaseConstruct } from './base.js';
import type { WithSecrets } from './secret.js';
import type { Tenant } from './tenant.js';
import type { SECRET_PROPS } from './write-only.js';

/** Props of a {@link Webhook}: the config's `Webhook`, with `secret` a Secret (`Secret.fromEnv('NAME')`). */
export interface WebhookProps extends WithSecrets<WebhookConfig, (typeof SECRET_PROPS.webhook)[number]> {}

/** A database-change webhook, `tenants.<slug>.webhooks.<name>`. */
export class Webhook extends FluxbaseConstruct {
  /** True for a Webhook from any copy of this library. */
  static isWebhook(x: unknown): x is Webhook {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'webhook';
  }

  declare readonly kind: 'webhook';

  constructor(scope: Tenant, name: string, props: WebhookProps) {
    super(scope, name, 'webhook', props);
  }
}

/** Props of a {@link ServiceKey}: the config's `ServiceKey`. */
export interface ServiceKeyProps extends ServiceKeyConfig {}

/** A tenant's service key, `tenants.<slug>.service_keys.<name>`. */
export class ServiceKey extends FluxbaseConstruct {
  /** True for a ServiceKey from any copy of this library. */
  static isServiceKey(x: unknown): x is ServiceKey {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'service_key';
  }

  declare readonly kind: 'service_key';

  constructor(scope: Tenant, name: string, props: ServiceKeyProps = {}) {
    super(scope, name, 'service_key', props);
  }
}

/**
 * Props of a {@link CustomSetting}: the config's `CustomSetting`, with `secret` a Secret. Declare
 * exactly one of `value` (any JSON) and `secret` (a write-only secret setting).
 */
export interface CustomSettingProps extends WithSecrets<CustomSettingConfig, (typeof SECRET_PROPS.custom_setting)[number]> {}

/** A tenant's custom or secret setting, `tenants.<slug>.settings.custom.<key>`. */
export class CustomSetting extends FluxbaseConstruct {
  /** True for a CustomSetting from any copy of this library. */
  static isCustomSetting(x: unknown): x is CustomSetting {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'custom_setting';
  }

  declare readonly kind: 'custom_setting';

  /** @param key the setting key, unique across the whole instance (e.g. `acme.features.flags`). */
  constructor(scope: Tenant, key: string, props: CustomSettingProps) {
    super(scope, key, 'custom_setting', props);
  }
}
