import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceDefinitions } from '../../src/terraform/serve.js';

const root = join(import.meta.dirname, '..', '..');

describe('pre-built protocol descriptor', () => {
  it('matches the .proto files (run node scripts/gen-tf-descriptors.mjs after editing them)', () => {
    // --check exits non-zero (and execFileSync throws) when the generated file is stale.
    expect(() => execFileSync(process.execPath, [join(root, 'scripts', 'gen-tf-descriptors.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('exposes the four services under their wire paths', () => {
    const defs = serviceDefinitions();
    expect(defs.provider!.PlanResourceChange!.path).toBe('/tfplugin6.Provider/PlanResourceChange');
    expect(Object.keys(defs.provider!)).toHaveLength(20);
    expect(defs.controller!.Shutdown!.path).toBe('/plugin.GRPCController/Shutdown');
    expect(defs.stdio!.StreamStdio!.responseStream).toBe(true);
    expect(defs.health!.Check!.path).toBe('/grpc.health.v1.Health/Check');
  });
});
