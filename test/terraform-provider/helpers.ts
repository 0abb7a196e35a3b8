/**
 * Helpers for the fluxbase provider tests: the real bundle (scripts/build-fluxbase-provider.mjs)
 * installed into a throwaway Terraform workspace through a filesystem mirror
 * (test/terraform/helpers/terraform.ts), an emulator on the test PostgreSQL server, and direct
 * API calls for changes "made outside Terraform".
 */
import { HAZARD_TYPES } from '../../src/model/plan.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';
import { EXAMPLE_HOSTS } from '../support/hosts.js';
import { TerraformWorkspace, type TfResult } from '../terraform/helpers/terraform.js';
// @ts-expect-error -- plain .mjs script without type declarations
import { buildFluxbaseProvider } from '../../scripts/build-fluxbase-provider.mjs';

export { api, setupAdmin, tenantId } from '../e2e/harness.js';

/** The provider's address in the mirror. */
export const PROVIDER = { host: 'registry.terraform.io', namespace: 'fluxbase', type: 'fluxbase', version: '0.1.0' };

/** Starts an emulator on the test PostgreSQL server, behaving like the real server (support/hosts.ts). */
export function startTestEmulator(options: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  return startEmulator({ storage: { kind: 'postgres', databaseUrl: inject('databaseUrl') }, hosts: EXAMPLE_HOSTS, ...options });
}

/**
 * Starts the provider in debug (reattach) mode: one warm process that serves every terraform
 * command given `TF_REATTACH_PROVIDERS` (no init, no handshake, no TLS). Returns that value.
 */
export async function startDebugProvider(exe: string): Promise<{ reattach: string; child: ChildProcess; stop: () => void }> {
  const child = spawn(exe, [], { env: { PATH: process.env.PATH, FLUXBASE_TF_DEBUG: '1', FLUXBASE_ALLOW_HAZARDS: HAZARD_TYPES.join(','), TF_LOG_PROVIDER: process.env.FLUXBASE_TEST_PROVIDER_LOG ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  if (process.env.FLUXBASE_TEST_PROVIDER_LOG) child.stderr!.pipe(process.stderr);
  else child.stderr!.resume();
  const lines = createInterface({ input: child.stdout! });
  const reattach = await new Promise<string>((resolve, reject) => {
    lines.on('line', (l) => {
      const m = /^export TF_REATTACH_PROVIDERS='(.*)'$/.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`provider exited with ${code}`)));
  });
  return { reattach, child, stop: () => void (child.exitCode === null && child.kill('SIGTERM')) };
}

/** Bundles the provider into a temp dir; returns the executable and a cleanup function. */
export async function buildProvider(): Promise<{ exe: string; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxbase-tfp-'));
  const res = (await buildFluxbaseProvider(join(dir, 'terraform-provider-fluxbase'))) as { outfile: string };
  return { exe: res.outfile, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The `terraform {}` block requiring the provider from the mirror. */
export const TERRAFORM_BLOCK = `terraform {
  required_providers {
    fluxbase = { source = "fluxbase/fluxbase", version = "0.1.0" }
  }
}
`;

/** A Terraform workspace wired to an emulator (credentials through FLUXBASE_URL / FLUXBASE_TOKEN). */
export class FluxbaseWorkspace extends TerraformWorkspace {
  constructor(
    exe: string,
    readonly emulator: RunningEmulator,
  ) {
    super(exe, PROVIDER);
    // Tests about other things allow every hazard; lifecycle.test.ts checks the gate itself.
    Object.assign(this.env, { FLUXBASE_URL: emulator.url, FLUXBASE_TOKEN: emulator.serviceRoleToken, FLUXBASE_ALLOW_HAZARDS: HAZARD_TYPES.join(',') });
  }

  /** Writes main.tf: the terraform block plus `body`. */
  config(body: string): void {
    this.write('main.tf', TERRAFORM_BLOCK + body);
  }

  /** Runs terraform and fails the test with its output when the exit code differs from `expected`. */
  async ok(args: string[], expected = 0, env: NodeJS.ProcessEnv = {}): Promise<TfResult> {
    const res = await this.run(args, env);
    if (res.code !== expected) throw new Error(`terraform ${args.join(' ')} exited ${res.code} (expected ${expected}):\n${res.output}`);
    return res;
  }

  /** `terraform show -json` of a saved plan file: the resource changes' addresses and actions. */
  async planActions(planFile: string, env: NodeJS.ProcessEnv = {}): Promise<[string, string][]> {
    const res = await this.ok(['show', '-json', planFile], 0, env);
    const doc = JSON.parse(res.stdout) as { resource_changes?: { address: string; change: { actions: string[] } }[] };
    return (doc.resource_changes ?? []).filter((c) => !(c.change.actions.length === 1 && c.change.actions[0] === 'no-op')).map((c) => [c.address, c.change.actions.join(',')]);
  }
}
