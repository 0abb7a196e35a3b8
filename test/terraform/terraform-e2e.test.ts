/**
 * The example provider (test/terraform/fixtures) bundled with
 * scripts/build-provider.mjs and driven by the real `terraform` binary,
 * installed through a filesystem mirror. The steps share one workspace and
 * run in order.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoteStore, type StoreFile } from './fixtures/example-provider.js';
import { buildExampleProvider, removeBuiltProvider } from './helpers/build.js';
import { TerraformWorkspace } from './helpers/terraform.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

interface NoteConfig {
  title?: string;
  slug?: string;
  secret?: string;
  secretVersion?: number;
  extra?: string;
}

describe('example provider under real terraform', () => {
  let ws: TerraformWorkspace;
  let store: NoteStore;
  const header = () => `terraform {
  required_providers {
    example = { source = "fluxbase-test/example", version = "0.1.0" }
  }
}
provider "example" {
  store_path = ${JSON.stringify(store.path)}
}
`;
  const note = (c: NoteConfig = {}) => `
resource "example_note" "a" {
  title = ${JSON.stringify(c.title ?? 'Hello')}
  slug  = ${JSON.stringify(c.slug ?? 'hello')}
  tags  = ["b", "a"]
  ratio = 0.1
  owner = { name = "ann" }
${c.secret !== undefined ? `  secret_wo         = ${JSON.stringify(c.secret)}\n  secret_wo_version = ${c.secretVersion ?? 1}\n` : ''}
  link {
    url = "https://example.test/a"
  }
}
${c.extra ?? ''}`;
  const useConfig = (c: NoteConfig = {}) => ws.write('main.tf', header() + note(c));
  const noteA = () => ws.state().resources.find((r) => r.type === 'example_note' && r.name === 'a')!.instances[0]!;
  const storeData = (): StoreFile => store.load();
  const mutateStore = (f: (d: StoreFile) => void) => {
    const d = store.load();
    f(d);
    store.save(d);
  };

  beforeAll(async () => {
    const exe = await buildExampleProvider();
    ws = new TerraformWorkspace(exe, { host: 'registry.terraform.io', namespace: 'fluxbase-test', type: 'example', version: '0.1.0' });
    removeBuiltProvider(exe); // the workspace has its own copy in the mirror
    store = new NoteStore(join(ws.root, 'store.json'));
  });
  afterAll(() => ws?.remove());

  it('installs the provider from the filesystem mirror with terraform init', async () => {
    useConfig();
    const res = await ws.run(['init']);
    expect(res.code, res.output).toBe(0);
    expect(res.output).toContain('Installing fluxbase-test/example v0.1.0');
    expect(existsSync(join(ws.root, 'home', '.terraform.d'))).toBe(false);
  });

  it('reports validation errors at the offending attribute', async () => {
    ws.write('main.tf', header() + note({ slug: 'Not A Slug' }));
    const res = await ws.run(['validate', '-json']);
    expect(res.code).toBe(1);
    const diags = JSON.parse(res.stdout).diagnostics as { summary: string; detail: string; range?: { start: { line: number } } }[];
    const d = diags.find((x) => x.detail.includes('may only contain'));
    expect(d, res.stdout).toBeDefined();
    expect(d!.summary).toBe('Invalid attribute value');
    const slugLine = ws.read('main.tf').split('\n').findIndex((l) => l.includes('Not A Slug')) + 1;
    expect(d!.range?.start.line).toBe(slugLine);
  });

  it('plans and applies a create, keeping the write-only secret out of plan and state', async () => {
    useConfig({ secret: 's3cret' });
    const plan = await ws.run(['plan']);
    expect(plan.code, plan.output).toBe(0);
    expect(plan.stdout).toContain('secret_wo         = (write-only attribute)');
    expect(plan.stdout).toContain('id                = (known after apply)');
    expect(plan.stdout).toContain('priority          = 1'); // default
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('Resources: 1 added, 0 changed, 0 destroyed.');
    const inst = noteA();
    expect(inst.attributes.id).toBe('n-1');
    expect(inst.attributes.ratio).toBe(0.1);
    expect(inst.attributes.secret_wo).toBeNull();
    expect(inst.sensitive_attributes).toContainEqual([{ type: 'get_attr', value: 'api_key' }]);
    expect(ws.read('terraform.tfstate')).not.toContain('s3cret');
    expect(storeData().secrets['n-1']).toBe(sha('s3cret'));
  });

  it('finds no changes on a second plan', async () => {
    const res = await ws.run(['plan', '-detailed-exitcode']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('No changes.');
  });

  it('updates in place, re-planning unknownOnUpdate attributes and keeping other computed ones', async () => {
    const before = noteA().attributes;
    useConfig({ title: 'Hello again', secret: 's3cret' });
    const plan = await ws.run(['plan']);
    expect(plan.stdout).toContain('~ update in-place');
    expect(plan.stdout).toContain('~ revision          = 1 -> (known after apply)');
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('0 added, 1 changed, 0 destroyed');
    const after = noteA().attributes;
    expect(after.id).toBe(before.id);
    expect(after.created_at).toBe(before.created_at);
    expect(after.revision).toBe(2);
    expect(storeData().notes['n-1']!.title).toBe('Hello again');
  });

  it('re-sends the write-only secret only when its version is bumped', async () => {
    useConfig({ title: 'Hello again', secret: 'rotated', secretVersion: 2 });
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('1 changed');
    expect(storeData().secrets['n-1']).toBe(sha('rotated'));
    expect(ws.read('terraform.tfstate')).not.toContain('rotated');
  });

  it('replaces the resource when a forceNew attribute changes', async () => {
    useConfig({ title: 'Hello again', slug: 'hello-2', secret: 'rotated', secretVersion: 2 });
    const plan = await ws.run(['plan']);
    expect(plan.stdout).toContain('must be replaced');
    expect(plan.stdout).toMatch(/slug\s+= "hello" -> "hello-2" # forces replacement/);
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('1 added, 0 changed, 1 destroyed');
    expect(noteA().attributes.id).toBe('n-2');
    expect(Object.keys(storeData().notes)).toEqual(['n-2']);
  });

  it('detects drift made behind its back and repairs it', async () => {
    mutateStore((d) => {
      d.notes['n-2']!.title = 'edited by hand';
    });
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.code, plan.output).toBe(2);
    expect(plan.stdout).toContain('~ title             = "edited by hand" -> "Hello again"');
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(storeData().notes['n-2']!.title).toBe('Hello again');
  });

  it('re-creates an object deleted outside terraform, and accepts refined unknowns (ext 12) from interpolations of its id', async () => {
    mutateStore((d) => {
      delete d.notes['n-2'];
    });
    // "copy of ${…id}" is planned by Terraform as an unknown string refined with a prefix.
    ws.write('b.tf', 'resource "example_note" "b" {\n  title = "copy of ${example_note.a.id}"\n  slug  = "b"\n}\n');
    const plan = await ws.run(['plan']);
    expect(plan.code, plan.output).toBe(0);
    expect(plan.stdout).toContain('# example_note.a will be created');
    expect(plan.stdout).toMatch(/title +\= \(known after apply\)/);
    expect(plan.output).toContain('It will start with "copy of ".'); // the fixture's warning on a prefix-refined unknown
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(noteA().attributes.id).toBe('n-3');
    expect(Object.values(storeData().notes).find((n) => n.slug === 'b')!.title).toBe('copy of n-3');
  });

  it('imports an existing object with terraform import', async () => {
    mutateStore((d) => {
      d.notes['ext-1'] = { ...d.notes['n-3']!, id: 'ext-1', title: 'External', slug: 'external', secret_wo_version: null };
    });
    const extra = `
resource "example_note" "imported" {
  title = "External"
  slug  = "external"
  tags  = ["b", "a"]
  ratio = 0.1
  owner = { name = "ann" }
  link {
    url = "https://example.test/a"
  }
}
`;
    useConfig({ title: 'Hello again', slug: 'hello-2', secret: 'rotated', secretVersion: 2, extra });
    const res = await ws.run(['import', 'example_note.imported', 'ext-1']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('Import successful!');
    const plan = await ws.run(['plan', '-detailed-exitcode']);
    expect(plan.code, plan.output).toBe(0);

    ws.write('nope.tf', 'resource "example_note" "nope" {\n  title = "x"\n  slug  = "x"\n}\n');
    const missing = await ws.run(['import', 'example_note.nope', 'does-not-exist']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no note has id does-not-exist');
    ws.write('nope.tf', '');
  });

  it('generates configuration for an import block with plan -generate-config-out and applies it', async () => {
    mutateStore((d) => {
      d.notes['ext-2'] = { ...d.notes['n-3']!, id: 'ext-2', title: 'Generated', slug: 'generated', tags: null, owner: null, link: [], secret_wo_version: null };
    });
    ws.write('imports.tf', 'import {\n  to = example_note.gen\n  id = "ext-2"\n}\n');
    const plan = await ws.run(['plan', '-generate-config-out=generated.tf']);
    expect(plan.code, plan.output).toBe(0);
    const generated = ws.read('generated.tf');
    expect(generated).toContain('resource "example_note" "gen"');
    expect(generated).toMatch(/title\s+= "Generated"/);
    expect(generated).not.toMatch(/^\s*id\s+=/m); // computed-only attributes are not generated
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('Resources: 1 imported, 0 added, 0 changed, 0 destroyed.');
  });

  it('reads a data source', async () => {
    ws.write('data.tf', 'data "example_notes" "ext" {\n  slug_prefix = "ext"\n}\noutput "ext_total" {\n  value = data.example_notes.ext.total\n}\n');
    const res = await ws.run(['apply', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    const out = await ws.run(['output', '-json', 'ext_total']);
    expect(out.stdout.trim()).toBe('1');
  });

  it('upgrades state stored with an older schema version', async () => {
    const raw = JSON.parse(ws.read('terraform.tfstate'));
    const inst = raw.resources.find((r: { name: string }) => r.name === 'imported').instances[0];
    inst.schema_version = 0; // v0 stored the body as "text"
    inst.attributes.text = 'from v0';
    delete inst.attributes.body;
    raw.serial += 1;
    ws.write('terraform.tfstate', JSON.stringify(raw));
    mutateStore((d) => {
      d.notes['ext-1']!.body = 'from v0';
    });
    const res = await ws.run(['apply', '-auto-approve', '-refresh-only']);
    expect(res.code, res.output).toBe(0);
    const upgraded = ws.state().resources.find((r) => r.name === 'imported')!.instances[0]!;
    expect(upgraded.schema_version).toBe(1);
    expect(upgraded.attributes.body).toBe('from v0');
    expect(upgraded.attributes).not.toHaveProperty('text');
  });

  it('destroys everything', async () => {
    const res = await ws.run(['destroy', '-auto-approve']);
    expect(res.code, res.output).toBe(0);
    expect(res.stdout).toContain('Resources: 4 destroyed.');
    expect(storeData().notes).toEqual({});
  });
});
