/**
 * `terraform-provider-fluxbase install [--mirror DIR]`: installs this executable where Terraform
 * finds providers without a registry, in the layout of a filesystem mirror:
 *
 *   <DIR>/registry.terraform.io/fluxbase/fluxbase/<version>/<os>_<arch>/terraform-provider-fluxbase_v<version>
 *
 * DIR defaults to `~/.terraform.d/plugins`, one of Terraform's implied local mirror directories:
 * with no `provider_installation` block in the CLI configuration, `terraform init` installs
 * `source = "fluxbase/fluxbase"` from there and nothing else needs configuring. With another
 * DIR (or a CLI configuration that has a `provider_installation` block), the printed
 * `filesystem_mirror` block says what to add. The executable is one file (the bundle, or a single
 * executable application), so a copy is the whole installation.
 */
import { chmod, copyFile, mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { VERSION } from '../version.js';

const OS: Record<string, string> = { linux: 'linux', darwin: 'darwin', win32: 'windows', freebsd: 'freebsd' };
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };

/** Terraform's platform name of this machine, e.g. `linux_amd64`. */
export function terraformPlatform(): string {
  return `${OS[process.platform] ?? process.platform}_${ARCH[process.arch] ?? process.arch}`;
}

/** Runs the install command; returns the exit code. */
export async function install(args: string[], self: string, out: (line: string) => void): Promise<number> {
  const i = args.indexOf('--mirror');
  if (args.some((a, n) => a.startsWith('-') && a !== '--mirror' && n !== i + 1) || (i >= 0 && !args[i + 1])) {
    out('usage: terraform-provider-fluxbase install [--mirror DIR]   (default DIR: ~/.terraform.d/plugins)');
    return 1;
  }
  const mirror = path.resolve(i >= 0 ? args[i + 1]! : path.join(homedir(), '.terraform.d', 'plugins'));
  const dir = path.join(mirror, 'registry.terraform.io', 'fluxbase', 'fluxbase', VERSION, terraformPlatform());
  const target = path.join(dir, `terraform-provider-fluxbase_v${VERSION}${process.platform === 'win32' ? '.exe' : ''}`);
  await mkdir(dir, { recursive: true });
  const temporary = `${target}.${process.pid}.tmp`;
  await copyFile(self, temporary);
  await chmod(temporary, 0o755);
  await rename(temporary, target);
  out(`Installed fluxbase/fluxbase ${VERSION} for ${terraformPlatform()} in the filesystem mirror ${mirror}:`);
  out(`  ${target}`);
  out('');
  out('In a configuration with');
  out(`  terraform { required_providers { fluxbase = { source = "fluxbase/fluxbase", version = "~> ${VERSION.split('.').slice(0, 2).join('.')}" } } }`);
  out('`terraform init` now installs it from there.');
  if (i >= 0) {
    out('This is not an implied mirror directory: add it to the CLI configuration (~/.terraformrc or TF_CLI_CONFIG_FILE):');
  } else {
    out('(If your CLI configuration has a provider_installation block, add this mirror to it:)');
  }
  out(`  provider_installation {\n    filesystem_mirror {\n      path    = "${mirror}"\n      include = ["registry.terraform.io/fluxbase/*"]\n    }\n    direct {\n      exclude = ["registry.terraform.io/fluxbase/*"]\n    }\n  }`);
  return 0;
}
