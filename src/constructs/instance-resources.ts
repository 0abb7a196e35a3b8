/** Instance-wide constructs that live in the app: OAuthProvider, ClientKey. */
import type { ClientKey as ClientKeyConfig, OAuthProvider as OAuthProviderConfig } from '../model/config.generated.js';
import { FluxbaseConstruct } from './base.js';
import type { FluxbaseApp } from './app.js';
import type { WithSecrets } from './secret.js';
import type { SECRET_PROPS } from './write-only.js';

/** Props of an {@link OAuthProvider}: the config's `OAuthProvider`, with `client_secret` a Secret. */
export interface OAuthProviderProps extends WithSecrets<OAuthProviderConfig, (typeof SECRET_PROPS.oauth_provider)[number]> {}

/** An OAuth sign-in provider, `oauth_providers.<name>`. */
export class OAuthProvider extends FluxbaseConstruct {
  /** True for an OAuthProvider from any copy of this library. */
  static isOAuthProvider(x: unknown): x is OAuthProvider {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'oauth_provider';
  }

  declare readonly kind: 'oauth_provider';

  /** @param name the provider name (github, google, … or a custom name of a-z, 0-9 and '_'). */
  constructor(scope: FluxbaseApp, name: string, props: OAuthProviderProps) {
    super(scope, name, 'oauth_provider', props);
  }
}

/** Props of a {@link ClientKey}: the config's `ClientKey` (`scopes` from the server's vocabulary). */
export interface ClientKeyProps extends ClientKeyConfig {}

/** An instance-wide client key, `client_keys.<name>`. */
export class ClientKey extends FluxbaseConstruct {
  /** True for a ClientKey from any copy of this library. */
  static isClientKey(x: unknown): x is ClientKey {
    return FluxbaseConstruct.isFluxbaseConstruct(x) && x.kind === 'client_key';
  }

  declare readonly kind: 'client_key';

  constructor(scope: FluxbaseApp, name: string, props: ClientKeyProps) {
    super(scope, name, 'client_key', props);
  }
}
