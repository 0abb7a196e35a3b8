/**
 * Entry point of the `terraform-provider-fluxbase` executable (bundled by
 * scripts/build-fluxbase-provider.mjs). Terraform starts it with its go-plugin environment;
 * `FLUXBASE_TF_DEBUG=1` runs it in debug (reattach) mode instead; `install [--mirror DIR]`
 * installs it for Terraform (install.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { serve } from '../terraform/index.js';
import { fluxbaseProvider } from './provider.js';

// The PostgreSQL parser's WebAssembly runs with V8's baseline compiler only, as in the CLI
// (src/cli.ts): optimising it in the background costs more CPU and memory than it saves.
setFlagsFromString('--liftoff-only');

if (process.argv[2] === 'install') {
  // (no top-level await: the bundle is CommonJS)
  void import('./install.js').then(async ({ install }) => {
    process.exitCode = await install(process.argv.slice(3), process.argv[1] ?? process.execPath, (line) => console.log(line));
  });
} else {
  void serve(fluxbaseProvider(), { executable: 'terraform-provider-fluxbase' });
}
