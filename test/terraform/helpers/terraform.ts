/**
 * A throwaway Terraform workspace that installs a provider bundle through a
 * filesystem mirror (no registry, no network) and keeps every Terraform
 * file (CLI config, data dir, plugin cache, HOME) inside one temp dir.
 *
 * Mirror layout (Terraform's "unpacked" layout):
 *   <mirror>/<host>/<namespace>/<type>/<version>/<os>_<arch>/terraform-provider-<type>_v<version>
 */
import { spawn } from 'node:child_process';
import { copyFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProviderAddress {
  host: string;
  namespace: string;
  type: string;
  version: string;
}

export interface TfResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout + stderr, for assertions on human output. */
  output: string;
}

/** Terraform's `<os>_<arch>` for this machine. */
export function platform(): string {
  const arch = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' }[process.arch as string] ?? process.arch;
  return `${process.platform}_${arch}`;
}

export class TerraformWorkspace {
  readonly root: string;
  readonly work: string;
  readonly mirror: string;
  readonly env: NodeJS.ProcessEnv;

  /** Creates the temp tree, copies `providerExe` into the mirror and writes the CLI config. */
  constructor(providerExe: string, readonly provider: ProviderAddress) {
    this.root = mkdtempSync(join(tmpdir(), 'fluxbase-tf-'));
    this.work = join(this.root, 'work');
    this.mirror = join(this.root, 'mirror');
    const pkgDir = join(this.mirror, provider.host, provider.namespace, provider.type, provider.version, platform());
    for (const d of [this.work, pkgDir, join(this.root, 'data'), join(this.root, 'plugin-cache'), join(this.root, 'home')]) mkdirSync(d, { recursive: true });
    const target = join(pkgDir, `terraform-provider-${provider.type}_v${provider.version}`);
    copyFileSync(providerExe, target);
    chmodSync(target, 0o755);
    const source = `${provider.host}/${provider.namespace}/*`;
    writeFileSync(
      join(this.root, 'cli.tfrc'),
      `provider_installation {\n  filesystem_mirror {\n    path    = ${JSON.stringify(this.mirror)}\n    include = [${JSON.stringify(source)}]\n  }\n  direct {\n    exclude = [${JSON.stringify(source)}]\n  }\n}\n`,
    );
    this.env = {
      PATH: process.env.PATH,
      HOME: join(this.root, 'home'),
      TF_CLI_CONFIG_FILE: join(this.root, 'cli.tfrc'),
      TF_DATA_DIR: join(this.root, 'data'),
      TF_PLUGIN_CACHE_DIR: join(this.root, 'plugin-cache'),
      TF_IN_AUTOMATION: '1',
      TF_INPUT: '0',
      CHECKPOINT_DISABLE: '1',
    };
  }

  /** Writes a file in the working directory. */
  write(name: string, text: string): void {
    writeFileSync(join(this.work, name), text);
  }

  read(name: string): string {
    return readFileSync(join(this.work, name), 'utf8');
  }

  /** Runs `terraform <command> -no-color <rest…>` in the working directory. Never throws on a non-zero exit. */
  run(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<TfResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('terraform', [args[0] ?? 'version', '-no-color', ...args.slice(1)], { cwd: this.work, env: { ...this.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, output: stdout + stderr }));
    });
  }

  /** Deletes the whole temp tree. */
  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }

  /** Parsed terraform.tfstate (local backend). */
  state(): { serial: number; resources: { mode: string; type: string; name: string; instances: { schema_version: number; attributes: Record<string, any>; sensitive_attributes: unknown[] }[] }[] } {
    return JSON.parse(this.read('terraform.tfstate'));
  }
}
