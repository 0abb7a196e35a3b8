import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDesired, type DesiredState } from '../../src/engine/graph.js';
import { loadConfigFile } from '../../src/engine/load.js';
import { planDocument, serialisePlan } from '../../src/engine/plan-document.js';
import { buildPlan } from '../../src/engine/plan.js';
import type { LiveState } from '../../src/engine/refresh.js';
import { validateDocument, type ValidConfig } from '../../src/engine/validate.js';
import { emptyState } from '../../src/state/document.js';
import { ROOT, TSX, cleanEnv, ensureBuilt, run } from './helpers.js';

/** Canary values: none may appear in the synthesised file. */
const SECRETS = {
  SIGNUP_WEBHOOK_SECRET: 'canary-signup-5b1d0e',
  POSTS_WEBHOOK_SECRET: 'canary-posts-93c2aa',
  GITHUB_CLIENT_SECRET: 'canary-github-c0ffee',
  CORP_SSO_CLIENT_SECRET: 'canary-sso-d15ea5e',
  NEWSLETTER_SMTP_PASSWORD: 'canary-smtp-ba5eba11',
};
const ENV = { ...SECRETS, FLUXBASE_PREVENT_DESTROY: 'true' };
const EXAMPLE = path.join(ROOT, 'examples/cdk/fluxbase.ts');

async function loadValid(file: string): Promise<ValidConfig> {
  const { config, diagnostics } = await validateDocument(await loadConfigFile(file, { env: ENV }));
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return config!;
}

/** Desired resources as a plain object; `source` and `sources` (file positions) necessarily differ. */
function comparable(desired: DesiredState): Record<string, unknown> {
  return Object.fromEntries([...desired].map(([address, { source: _source, sources: _sources, ...r }]) => [address, r]));
}

function columnOrders(valid: ValidConfig): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [slug, tenant] of Object.entries(valid.config.tenants ?? {})) {
    for (const [schema, s] of Object.entries(tenant?.schemas ?? {})) {
      for (const [table, t] of Object.entries(s?.tables ?? {})) out[`${slug}.${schema}.${table}`] = Object.keys(t?.columns ?? {});
    }
  }
  return out;
}

describe('examples/cdk', () => {
  let work: string;
  let synthesised: string;
  let yaml: ValidConfig;
  let cdk: ValidConfig;

  beforeAll(async () => {
    await ensureBuilt();
    work = await mkdtemp(path.join(tmpdir(), 'fluxbase-cdk-example-'));
    const result = await run(process.execPath, [TSX, EXAMPLE], { env: cleanEnv({ ...ENV, FLUXBASE_OUTDIR: path.join(work, 'out') }) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    synthesised = path.join(work, 'out/fluxbase.json');
    yaml = await loadValid(path.join(ROOT, 'fluxbase.config.yaml'));
    cdk = await loadValid(synthesised);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('synthesises the config the root YAML gives, loaded with the same environment', () => {
    expect(cdk.config).toEqual(yaml.config);
    expect(cdk.config.lifecycle?.prevent_destroy).toBe(true);
  });

  it('keeps every table’s columns in the YAML’s order', () => {
    expect(columnOrders(cdk)).toEqual(columnOrders(yaml));
    expect(Object.keys(columnOrders(cdk))).toHaveLength(5);
  });

  it('gives the same desired state as the YAML', () => {
    const fromYaml = buildDesired(yaml);
    const fromCdk = buildDesired(cdk);
    expect([...fromCdk.keys()].sort()).toEqual([...fromYaml.keys()].sort());
    expect(comparable(fromCdk)).toEqual(comparable(fromYaml));
  });

  it('plans byte-identical JSON to the YAML against the same empty server, but for diagnostic file positions', () => {
    // An empty server lacks the built-in default tenant and settings, so the plan carries
    // diagnostics located where each side was declared — the YAML, or the construct app's
    // TypeScript (through synth's fluxbase.sources.json, never the synthesised JSON): that
    // position is the only difference.
    const plan = (valid: ValidConfig) => {
      const live: LiveState = { resources: new Map(), tenants: new Map(), scanned: new Set(), diagnostics: [] };
      const doc = planDocument(buildPlan({ endpoint: 'http://emulator', desired: buildDesired(valid), live, state: emptyState() }), undefined);
      const files = new Set(doc.diagnostics.map((d) => d.location?.file));
      for (const d of doc.diagnostics) delete d.location;
      return { json: serialisePlan(doc), files: [...files], changes: doc.changes.length };
    };
    const fromYaml = plan(yaml);
    const fromCdk = plan(cdk);
    expect(fromCdk.json).toBe(fromYaml.json);
    expect(fromYaml.changes).toBeGreaterThan(20);
    expect(fromCdk.files).toEqual(['examples/cdk/fluxbase.ts']);
  });

  it('writes ${env:NAME} references and never a secret value', async () => {
    const text = await readFile(synthesised, 'utf8');
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(text).not.toContain(value);
      expect(text).toContain(`"\${env:${name}}"`);
    }
  });

  it('writes cdk.out/fluxbase.json in the working directory without FLUXBASE_OUTDIR, byte-identical to the first run', async () => {
    const cwd = path.join(work, 'project');
    await rm(cwd, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(cwd));
    const result = await run(process.execPath, [TSX, EXAMPLE], { cwd, env: cleanEnv(ENV) });
    expect(result.code).toBe(0);
    expect(await readFile(path.join(cwd, 'cdk.out/fluxbase.json'), 'utf8')).toBe(await readFile(synthesised, 'utf8'));
  });

  it('fails naming the variable and the construct when a secret is unset, and writes nothing', async () => {
    const out = path.join(work, 'unset');
    const env = cleanEnv({ ...ENV, FLUXBASE_OUTDIR: out }, ['GITHUB_CLIENT_SECRET']);
    delete env.GITHUB_CLIENT_SECRET;
    const result = await run(process.execPath, [TSX, EXAMPLE], { env });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('error[config.env-unset]: oauth_providers/github (client_secret): environment variable GITHUB_CLIENT_SECRET is not set');
    expect(result.stderr).toMatch(/examples\/cdk\/fluxbase\.ts:\d+:\d+: error\[config\.env-unset\]/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });
});
