/** The root of a construct tree: FluxbaseApp. */
import { Construct } from 'constructs';
import type { FluxbaseConfig } from '../model/config.generated.js';
import { isFluxbaseApp, markApp, setInternals } from './base.js';
import { callSite } from './site.js';
import { synthesize, type SynthOptions, type SynthResult } from './synth.js';

/**
 * Props of a {@link FluxbaseApp}: the config's top level without the collections that are child
 * constructs (today: `lifecycle`), and where to write the synthesised file.
 */
export interface FluxbaseAppProps extends Omit<FluxbaseConfig, 'version' | 'settings' | 'oauth_providers' | 'client_keys' | 'tenants'> {
  /**
   * Output directory of `fluxbase.json` (default `cdk.out`, relative to the working directory).
   * `FLUXBASE_OUTDIR`, which `fluxbase plan --app` sets, takes precedence.
   */
  outdir?: string;
}

/**
 * The root construct: one Fluxbase instance's desired state. Children: Tenant, OAuthProvider,
 * ClientKey, AuthSettings, AppSettings, SystemSetting. Its path is empty, so a construct path is
 * its place in the config document (`tenants/acme/webhooks/task-events`).
 */
export class FluxbaseApp extends Construct {
  /** True for a FluxbaseApp from any copy of this library (by symbol, not instanceof). */
  static isFluxbaseApp(x: unknown): x is FluxbaseApp {
    return isFluxbaseApp(x);
  }

  /** The output directory given as a prop (see {@link FluxbaseAppProps.outdir}). */
  readonly outdir: string | undefined;

  constructor(props: FluxbaseAppProps = {}) {
    super(undefined as unknown as Construct, '');
    const { outdir, ...rest } = props;
    this.outdir = outdir;
    const site = callSite();
    setInternals(this, { props: rest, ...(site ? { site } : {}) });
  }

  /**
   * Validates the whole tree and writes `<outdir>/fluxbase.json`: the same desired-state document
   * a fluxbase.config.yaml gives, deterministic, with secrets as `${env:NAME}`. Every problem
   * (wrong scope, duplicate name, schema and semantic errors, unset secret variables) is reported
   * at once: the promise rejects with a SynthError carrying them all, and nothing is written.
   */
  synth(options: SynthOptions = {}): Promise<SynthResult> {
    return synthesize(this, this.outdir, options);
  }
}
markApp(FluxbaseApp.prototype);
