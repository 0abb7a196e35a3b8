/** Builds the test provider bundle (test/terraform/fixtures/main.ts) with the project's own build script. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
// @ts-expect-error -- plain .mjs script without type declarations
import { buildProvider } from '../../../scripts/build-provider.mjs';

export const FIXTURE_ENTRY = join(import.meta.dirname, '..', 'fixtures', 'main.ts');

/** Bundles the example provider into a fresh temp dir; returns the executable's path. */
export async function buildExampleProvider(fileName = 'terraform-provider-example'): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'fluxbase-tfp-'));
  const res = (await buildProvider(FIXTURE_ENTRY, join(dir, fileName))) as { outfile: string };
  return res.outfile;
}

/** Removes a bundle made by buildExampleProvider (and its temp dir). */
export function removeBuiltProvider(exe: string): void {
  rmSync(dirname(exe), { recursive: true, force: true });
}
