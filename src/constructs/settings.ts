/** Instance settings constructs that live in the app: AuthSettings, AppSettings, SystemSetting. */
import type { AppSettings as AppSettingsConfig, AuthSettings as AuthSettingsConfig, SystemSetting as SystemSettingConfig } from '../model/config.generated.js';
import { FluxbaseConstruct } from './base.js';
import type { FluxbaseApp } from './app.js';
import type { WithSecrets } from './secret.js';
import type { SECRET_PROPS } from './write-only.js';

/** Props of {@link AuthSettings}: the config's `AuthSettings`. Only declared keys are managed. */
export interface AuthSettingsProps extends AuthSettingsConfig {}

/** The authentication settings, `settings.auth`. At most one per app (its id is fixed: `auth`). */
export class AuthSettings extends FluxbaseConstruct {
  /** True for AuthSettings from any copy of this library. */
  static isAuthSettings(x: unknown): x is AuthSettings {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'auth_settings';
  }

  declare readonly kind: 'auth_settings';

  constructor(scope: FluxbaseApp, props: AuthSettingsProps) {
    super(scope, 'auth', 'auth_settings', props);
  }
}

/**
 * Props of {@link AppSettings}: the config's `AppSettings`, with the write-only email credentials
 * (`email.smtp.password`, `email.sendgrid.api_key`, `email.mailgun.api_key`, `email.ses.*`) as Secrets.
 */
export interface AppSettingsProps extends WithSecrets<AppSettingsConfig, (typeof SECRET_PROPS.app_settings)[number]> {}

/** The app settings, `settings.app`. At most one per app (its id is fixed: `app`). */
export class AppSettings extends FluxbaseConstruct {
  /** True for AppSettings from any copy of this library. */
  static isAppSettings(x: unknown): x is AppSettings {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'app_settings';
  }

  declare readonly kind: 'app_settings';

  constructor(scope: FluxbaseApp, props: AppSettingsProps) {
    super(scope, 'app', 'app_settings', props);
  }
}

/** Props of a {@link SystemSetting}: the config's `SystemSetting` (`value`, `description`). */
export interface SystemSettingProps extends SystemSettingConfig {}

/** A whitelisted system setting, `settings.system.<key>` (e.g. `app.auth.magic_link_enabled`). */
export class SystemSetting extends FluxbaseConstruct {
  /** True for a SystemSetting from any copy of this library. */
  static isSystemSetting(x: unknown): x is SystemSetting {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'system_setting';
  }

  declare readonly kind: 'system_setting';

  constructor(scope: FluxbaseApp, key: string, props: SystemSettingProps) {
    super(scope, key, 'system_setting', props);
  }
}
