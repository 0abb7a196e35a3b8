/**
 * The handler registry. Typed so that a resource kind without a handler is a compile error.
 */
import type { ResourceKind } from '../model/resource.js';
import { RESOURCE_KINDS } from '../model/resource.js';
import { appSettingsHandler } from './app-settings.js';
import { authSettingsHandler } from './auth-settings.js';
import { clientKeyHandler } from './client-key.js';
import { customSettingHandler } from './custom-setting.js';
import { oauthProviderHandler } from './oauth-provider.js';
import { policyHandler } from './policy.js';
import { schemaHandler } from './schema.js';
import { serviceKeyHandler } from './service-key.js';
import { systemSettingHandler } from './system-setting.js';
import { tableHandler } from './table.js';
import { tenantHandler } from './tenant.js';
import type { ResourceHandler } from './types.js';
import { webhookHandler } from './webhook.js';

const HANDLERS: { [K in ResourceKind]: ResourceHandler } = {
  app_settings: appSettingsHandler,
  auth_settings: authSettingsHandler,
  system_setting: systemSettingHandler,
  oauth_provider: oauthProviderHandler,
  client_key: clientKeyHandler,
  tenant: tenantHandler,
  schema: schemaHandler,
  table: tableHandler,
  policy: policyHandler,
  webhook: webhookHandler,
  service_key: serviceKeyHandler,
  custom_setting: customSettingHandler,
};

/** The handler of a kind. */
export function handlerFor(kind: ResourceKind): ResourceHandler {
  return HANDLERS[kind];
}

/** Every handler, in dependency order of their kinds. */
export function allHandlers(): ResourceHandler[] {
  return RESOURCE_KINDS.map((k) => HANDLERS[k]);
}

export type { ResourceHandler } from './types.js';
