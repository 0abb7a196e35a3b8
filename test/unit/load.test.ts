import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfigText, loadConfigTextWithYaml, type LoadedDocument } from '../../src/engine/load.js';
import { toPointer } from '../../src/engine/source-index.js';
import { validateDocument } from '../../src/engine/validate.js';
import { buildDesired } from '../../src/engine/graph.js';

const ENV = { SECRET: 's3cret', FLAG: 'true', COUNT: '12', EMPTY: '' };

/** Every JSON pointer of a value (map keys and sequence indexes), parents first. */
function pointers(value: unknown, segments: (string | number)[] = [], out: string[] = []): string[] {
  out.push(toPointer(segments));
  if (Array.isArray(value)) value.forEach((v, i) => pointers(v, [...segments, i], out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) pointers(v, [...segments, k], out);
  return out;
}

/** The fast reader and the `yaml` reader agree on data, env scalars, diagnostics and every position. */
function expectSameAsYaml(text: string, env: Record<string, string> = ENV, read: 'fast' | 'yaml' = 'fast'): LoadedDocument {
  const fast = loadConfigText(text, 'f.yaml', { env });
  // The fast reader leaves positions for later; `yaml` indexes them at once.
  expect(fast.sources.deferred).toBe(read === 'fast');
  const reference = loadConfigTextWithYaml(text, 'f.yaml', { env });
  expect(fast.data).toEqual(reference.data);
  expect(Object.keys((fast.data ?? {}) as object)).toEqual(Object.keys((reference.data ?? {}) as object));
  expect([...fast.envScalars].sort()).toEqual([...reference.envScalars].sort());
  expect(fast.diagnostics).toEqual(reference.diagnostics);
  for (const p of pointers(reference.data)) {
    // Every value, and pointers that go further than the document (the deepest existing node answers).
    for (const q of [p, `${p}/missing`, `${p}/0`, `${p}/1/x`, `${p}/999`]) {
      expect(fast.sources.locate(q), q).toEqual(reference.sources.locate(q));
      expect(fast.sources.locate(q, true), q).toEqual(reference.sources.locate(q, true));
    }
  }
  return fast;
}

describe('loading YAML fast gives what yaml gives', () => {
  it('for the root config and the examples', () => {
    for (const file of ['../../fluxbase.config.yaml', '../../examples/helpdesk/fluxbase.config.yaml']) {
      expectSameAsYaml(readFileSync(new URL(file, import.meta.url), 'utf8'), {
        SIGNUP_WEBHOOK_SECRET: 'a', POSTS_WEBHOOK_SECRET: 'b', ACME_TASKS_WEBHOOK_SECRET: 'c',
        GITHUB_CLIENT_SECRET: 'd', CORP_SSO_CLIENT_SECRET: 'e', NEWSLETTER_SMTP_PASSWORD: 'f', HELPDESK_WEBHOOK_SECRET: 'g',
      });
    }
  });

  it('for scalars of every core type, in keys and values', () => {
    expectSameAsYaml(`version: 1
ints: [0, -0, +12, 007, 0o17, 0x1F, 123456789012345678901234567890, 1_000, 0b101, +0o17]
floats: [1.5, -0.0, 1., .5, +.5, 1e3, 1E-3, .inf, -.Inf, +.INF, .nan, .NaN, -.nan, 1.2.3]
nulls: [~, null, Null, NULL, nULL, '', ]
bools: [true, True, TRUE, false, False, FALSE, yes, no, on, off, tRue]
keys: { null: a, true: c, 1: d, 0x10: e, 1.50: f, .inf: g, "null": h2 }
strings: ["a\\tb\\u00e9\\x41", 'it''s', plain text, "  spaced  "]
blocks:
  literal: |
    line one
      indented
  folded: >-
    folded
    text

    paragraph
  keep: |+
    kept

empty:
`);
  });

  it('for env references: plain, quoted, escaped, partial, in blocks and keys', () => {
    const doc = expectSameAsYaml(`version: 1
plain: \${env:FLAG}
quoted: "\${env:FLAG}"
single: '\${env:COUNT}'
escaped: "\\x24{env:SECRET}"
partial: prefix-\${env:SECRET}-\${env:MISSING:-fallback}
literal: $\${env:SECRET}
empty: \${env:EMPTY:-dflt}
block: |-
  \${env:COUNT}
list:
  - \${env:COUNT}
  - "\${env:FLAG}"
\${env:SECRET}: key-not-substituted
nested: { deep: [ { x: "\${env:FLAG}" } ] }
nested_block:
  deep:
    - x: \${env:FLAG}
`);
    expect(doc.data).toMatchObject({ plain: 'true', escaped: 's3cret', partial: 'prefix-s3cret-fallback', literal: '${env:SECRET}', empty: 'dflt' });
    expect([...doc.envScalars].sort()).toEqual(['/empty', '/list/0', '/nested_block/deep/0/x', '/plain']);
  });

  it('for documents it leaves to yaml: anchors, tags, directives, several documents, errors, unset variables', () => {
    for (const text of [
      'version: 1\na: &x { b: 1 }\nc: *x\n',
      'version: 1\na: !!str 12\n',
      '%YAML 1.1\n---\nversion: 1\na: yes\n',
      'version: 1\n---\nversion: 2\n',
      'version: 1\ntenants:\n  acme: {}\n  acme: {}\n',
      'version: 1\ntenants:\n  acme: [\n',
      'version: 1\nkeys: { 1: a, "1": b }\n',
      'version: 1\nbig: 1e400\nneg: -1e999\n',
      'version: 1\nsecret: ${env:UNSET}\nother: "${env:ALSO_UNSET}"\n',
      'version: 1\n? [complex]\n: key\n',
      '',
      '# only a comment\n',
    ]) {
      expectSameAsYaml(text, ENV, 'yaml');
    }
  });

  it('for positions of keys and values in every style, in block and flow collections over several lines', () => {
    const text = `# leading comment
version: 1
"quoted key": { a: 1, 'b': "two", c: [x, "y", 'z'] }
a/b~c: plain   # a comment: with a colon
nested:
  - first
  - { k: v,
      l: [ 1,
           2 ] }
  - - inner
    - "multi
      line"
  - ? explicit
    : value
null: n
"null": quoted null
1: one
true: t
long plain: this plain scalar
  continues here
`;
    expectSameAsYaml(text);
    expectSameAsYaml(text.replace(/\n/g, '\r\n'));
  });

  it('for a document that is not a mapping', () => {
    expectSameAsYaml('- a list\n');
    expectSameAsYaml('just text\n');
  });

  it('for a large generated configuration', () => {
    const lines = ['version: 1', 'tenants:'];
    for (let t = 0; t < 3; t++) {
      lines.push(`  t${t}:`, `    name: Tenant ${t}`, '    schemas:', '      shop:', '        tables:');
      for (let k = 0; k < 20; k++) {
        lines.push(
          `          items_${k}:`,
          '            columns:',
          '              id:         { type: uuid, primary_key: true, default: gen_random_uuid() }',
          '              price:      { type: numeric, default: 0 }',
          '            rls:',
          '              enabled: true',
          '              policies:',
          `                items_${k}_read: { command: SELECT, roles: [authenticated], using: "owner_id = auth.uid() OR price > 0" }`,
        );
      }
    }
    expectSameAsYaml(`${lines.join('\n')}\n`);
  });
});

describe('a configuration without problems', () => {
  it('is loaded, validated and turned into desired resources without computing a single source position', async () => {
    const env = { SIGNUP_WEBHOOK_SECRET: 'a', POSTS_WEBHOOK_SECRET: 'b', ACME_TASKS_WEBHOOK_SECRET: 'c', GITHUB_CLIENT_SECRET: 'd', CORP_SSO_CLIENT_SECRET: 'e', NEWSLETTER_SMTP_PASSWORD: 'f' };
    const doc = loadConfigText(readFileSync(new URL('../../fluxbase.config.yaml', import.meta.url), 'utf8'), 'fluxbase.config.yaml', { env });
    const { config, diagnostics } = await validateDocument(doc);
    expect(diagnostics).toEqual([]);
    const desired = buildDesired(config!);
    expect(doc.sources.deferred).toBe(true);
    // …and a declaration's location is still there when something reads it.
    const webhook = [...desired.values()].find((r) => r.kind === 'webhook')!;
    expect(webhook.source).toEqual(loadConfigTextWithYaml(readFileSync(new URL('../../fluxbase.config.yaml', import.meta.url), 'utf8'), 'fluxbase.config.yaml', { env }).sources.locate(toPointer(webhook.path), true));
    expect(doc.sources.deferred).toBe(false);
  });
});
