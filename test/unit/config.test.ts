import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import type { Diagnostic } from '../../src/diag/index.js';

async function check(yaml: string, env: Record<string, string> = {}) {
  const doc = loadConfigText(yaml, 'fluxbase.config.yaml', { env });
  return validateDocument(doc);
}

function where(d: Diagnostic | undefined): string {
  return d?.location ? `${d.location.line}:${d.location.column}` : 'nowhere';
}

const minimal = (tables: string) => `version: 1
tenants:
  acme:
    schemas:
      crm:
        tables:
${tables}`;

describe('config loading and validation', () => {
  it('accepts the root fluxbase.config.yaml', async () => {
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(new URL('../../fluxbase.config.yaml', import.meta.url), 'utf8');
    const { config, diagnostics } = await check(text, {
      SIGNUP_WEBHOOK_SECRET: 'a',
      POSTS_WEBHOOK_SECRET: 'b',
      GITHUB_CLIENT_SECRET: 'd',
      CORP_SSO_CLIENT_SECRET: 'e',
      NEWSLETTER_SMTP_PASSWORD: 'f',
    });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(config?.config.tenants?.acme?.name).toBe('Acme Corp');
  });

  it('reports a YAML syntax error with its position', async () => {
    const { diagnostics } = await check('version: 1\ntenants:\n  acme: [\n');
    expect(diagnostics[0]?.code).toBe('config.yaml-syntax');
    expect(diagnostics[0]?.location?.line).toBeGreaterThanOrEqual(3);
  });

  it('reports a duplicate key as an error at the second occurrence', async () => {
    const { diagnostics } = await check('version: 1\ntenants:\n  acme: {}\n  acme: {}\n');
    expect(diagnostics.map((d) => d.code)).toEqual(['config.duplicate-key']);
    expect(where(diagnostics[0])).toBe('4:3');
  });

  it('reports an unknown key at the key, with a suggestion', async () => {
    const { diagnostics } = await check(minimal('          users:\n            colums:\n              id: { type: uuid }\n'));
    const d = diagnostics.find((x) => x.summary.startsWith("unknown key 'colums'"));
    expect(d?.summary).toContain("did you mean 'columns'");
    expect(where(d)).toBe('8:13');
    expect(d?.path).toEqual(['tenants', 'acme', 'schemas', 'crm', 'tables', 'users', 'colums']);
  });

  it('reports a wrong type at the value', async () => {
    const { diagnostics } = await check(minimal('          users:\n            columns:\n              id: { type: uuid, nullable: maybe }\n'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.summary).toBe("must be a boolean, got 'maybe'");
    expect(where(diagnostics[0])).toBe('9:43');
  });

  it('reports a bad identifier at the key with the rule', async () => {
    const { diagnostics } = await check(minimal('          Users:\n            columns:\n              id: { type: uuid }\n'));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.summary).toContain("invalid name 'Users'");
    expect(diagnostics[0]?.summary).toContain('lower-case identifier');
    expect(where(diagnostics[0])).toBe('7:11');
  });

  it("refuses a table in one of Fluxbase's internal schemas, where the server drops it at its next start (F1)", async () => {
    const yaml = minimal('          users:\n            columns:\n              id: { type: uuid }\n').replace('      crm:', '      app:');
    const { diagnostics } = await check(yaml);
    expect(diagnostics.map((d) => [d.code, where(d)])).toEqual([['config.internal-schema', '7:11']]);
    expect(diagnostics[0]!.summary).toBe("table app.users is in Fluxbase's internal schema 'app'");
    expect(diagnostics[0]!.detail).toContain('Declare the table in `public` or in a schema of your own');
  });

  it('warns that a webhook on a table of a tenant with its own database never delivers (F7)', async () => {
    const yaml = `version: 1\ntenants:\n  acme:\n    webhooks:\n      hook:\n        url: https://hooks.example.com/x\n        events: [{ table: public.orders, operations: [INSERT] }]\n        secret: s\n`;
    const { diagnostics } = await check(yaml);
    expect(diagnostics.map((d) => [d.severity, d.code, where(d)])).toEqual([['warning', 'config.webhook-undeliverable', '7:27']]);
  });

  it('flags settings.auth keys the runtime never reads, with where to declare them instead (F8)', async () => {
    const { diagnostics } = await check('version: 1\nsettings:\n  auth:\n    enable_signup: false\n    session_timeout_minutes: 30\n    disable_dashboard_password_login: false\n');
    expect(diagnostics.map((d) => [d.severity, d.code, where(d)])).toEqual([
      ['warning', 'config.ineffective-setting', '4:5'],
      ['warning', 'config.ineffective-setting', '5:5'],
    ]);
    expect(diagnostics[0]!.summary).toContain('the runtime reads app.auth.signup_enabled');
    expect(diagnostics[0]!.detail).toContain('Declare settings.app.authentication.enable_signup instead');
    expect(diagnostics[1]!.detail).toContain('Remove it');
  });

  it('refuses an app-settings section next to a system setting that section writes', async () => {
    const { diagnostics } = await check('version: 1\nsettings:\n  app:\n    authentication: { enable_signup: true }\n  system:\n    app.auth.magic_link_enabled: { value: true }\n');
    expect(diagnostics.map((d) => [d.code, where(d)])).toEqual([['config.conflict', '6:5']]);
    expect(diagnostics[0]!.detail).toContain('Declare it as settings.app.authentication.enable_magic_link instead');
  });

  it('rejects reserved words the server rejects', async () => {
    const { diagnostics } = await check(minimal('          order:\n            columns:\n              id: { type: uuid }\n'));
    expect(diagnostics.map((d) => [d.code, where(d)])).toEqual([['config.identifier', '7:11']]);
  });

  it('names an unset environment variable and its position', async () => {
    const { diagnostics } = await check('version: 1\ntenants:\n  acme:\n    name: ${env:ACME_NAME}\n');
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.code).toBe('config.env-unset');
    expect(diagnostics[0]?.summary).toContain('ACME_NAME');
    expect(where(diagnostics[0])).toBe('4:11');
  });

  it('uses ${env:NAME:-default} when the variable is unset, and the variable when set', async () => {
    const yaml = 'version: 1\ntenants:\n  acme:\n    name: ${env:ACME_NAME:-Acme Corp}\n';
    expect((await check(yaml)).config?.config.tenants?.acme?.name).toBe('Acme Corp');
    expect((await check(yaml, { ACME_NAME: 'ACME' })).config?.config.tenants?.acme?.name).toBe('ACME');
  });

  it('gives a plain ${env:…} scalar the type the schema expects', async () => {
    const yaml = 'version: 1\nlifecycle:\n  prevent_destroy: ${env:PROTECT:-false}\n';
    expect((await check(yaml)).config?.config.lifecycle?.prevent_destroy).toBe(false);
    expect((await check(yaml, { PROTECT: 'true' })).config?.config.lifecycle?.prevent_destroy).toBe(true);
    const bad = await check(yaml, { PROTECT: 'sometimes' });
    expect(bad.diagnostics[0]?.code).toBe('config.schema');
  });

  it('keeps a quoted ${env:…} a string', async () => {
    const yaml = 'version: 1\nlifecycle:\n  prevent_destroy: "${env:PROTECT}"\n';
    const { diagnostics } = await check(yaml, { PROTECT: 'true' });
    expect(diagnostics[0]?.summary).toBe("must be a boolean, got 'true'");
  });

  it('reports a policy on a table that declares no columns', async () => {
    const { diagnostics } = await check(
      minimal('          posts:\n            rls:\n              policies:\n                p1: { command: SELECT, using: "true" }\n'),
    );
    expect(diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual(['config.undeclared-table']);
    const undeclared = diagnostics.find((d) => d.code === 'config.undeclared-table');
    expect(undeclared?.summary).toContain('policy p1');
    expect(where(undeclared)).toBe('10:17');
  });

  it('reports SQL that PostgreSQL cannot parse, before any API call', async () => {
    const { diagnostics } = await check(
      minimal('          posts:\n            columns:\n              id: { type: uuid }\n            rls:\n              policies:\n                p1: { command: SELECT, using: "id = = 1" }\n'),
    );
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code)).toEqual(['config.schema']);
    expect(errors[0]?.summary).toContain('using of policy p1');
  });

  it('reports an invalid column type', async () => {
    const { diagnostics } = await check(minimal('          posts:\n            columns:\n              id: { type: "not a type" }\n'));
    expect(diagnostics[0]?.summary).toBe("'not a type' is not a valid PostgreSQL type");
  });

  it('reports every error at once', async () => {
    const { diagnostics } = await check(
      'version: 2\ntenants:\n  Acme: {}\n  ok:\n    nme: x\n    webhooks:\n      w: { enabled: true }\n',
    );
    expect(diagnostics.map((d) => where(d)).sort()).toEqual(['1:10', '3:3', '5:5', '7:10'].sort());
  });

  it('reports an undefined YAML alias at the alias instead of crashing', async () => {
    const { diagnostics } = await check('version: 1\ntenants:\n  acme:\n    metadata: *defaults\n');
    expect(diagnostics.map((d) => [d.code, d.summary, where(d)])).toEqual([['config.yaml-syntax', 'undefined alias *defaults', '4:15']]);
    expect(diagnostics[0]?.detail).toContain('&defaults');
  });

  it('still resolves aliases to anchors defined before them', async () => {
    const { config, diagnostics } = await check('version: 1\ntenants:\n  acme:\n    metadata: &m { plan: pro }\n  beta:\n    metadata: *m\n');
    expect(diagnostics).toEqual([]);
    expect(config?.config.tenants?.beta?.metadata).toEqual({ plan: 'pro' });
  });

  it('says "must be an integer", with an article that reads', async () => {
    const { diagnostics } = await check('version: 1\ntenants:\n  default:\n    webhooks:\n      w: { url: "https://hooks.example.com/x", max_retries: 2.5 }\n');
    expect(diagnostics.map((d) => d.summary)).toEqual(['must be an integer, got number 2.5']);
  });

  it('suggests quoting where YAML turned an SQL expression into a boolean', async () => {
    const { diagnostics } = await check(
      minimal('          posts:\n            columns:\n              id: { type: uuid }\n            rls:\n              enabled: true\n              policies:\n                p: { command: SELECT, using: true }\n'),
    );
    expect(diagnostics.map((d) => [d.summary, d.detail])).toEqual([['must be a string, got boolean true', 'YAML reads an unquoted true as a boolean. Quote it to mean the text: "true".']]);
  });
});

describe('validation of SQL the configuration writes (issue 11)', () => {
  const errorsOf = (diagnostics: Diagnostic[]) => diagnostics.filter((d) => d.severity === 'error');

  it.each([
    ['now()', undefined],
    ['NOW()', undefined],
    ['"timezone(\'utc\', now())"', undefined],
    ['"now() + interval \'1 day\'"', undefined],
    ['"\'draft\'"', undefined],
    ['"\'\'"', undefined],
    ['0', undefined],
    ['-1.5', undefined],
    ['false', undefined],
    ['null', undefined],
    ['"\'{}\'::text[]"', undefined],
    ['now(', 'is not a SQL expression'],
    ['""', 'an empty default is not SQL'],
    ['draft', 'refers to a column (draft)'],
    ['NOW', 'refers to a column (now)'],
    ['"(SELECT 1)"', 'contains a subquery'],
  ])('default: %s → %s', async (value, problem) => {
    const { diagnostics } = await check(minimal(`          posts:\n            columns:\n              id: { type: text, default: ${value} }\n`));
    const errors = errorsOf(diagnostics);
    if (problem === undefined) expect(errors).toEqual([]);
    else {
      expect(errors.map((d) => [d.code, where(d)])).toEqual([['config.schema', '9:42']]);
      expect(errors[0]!.summary).toContain(problem);
    }
  });

  it('names the column a policy, check or using: refers to that the table does not declare, with a suggestion', async () => {
    const { diagnostics } = await check(
      minimal(`          posts:
            columns:
              id:     { type: uuid }
              status: { type: integer, using: "stauts::integer" }
            checks:
              posts_valid: statsu > 0 AND posts.id IS NOT NULL AND EXISTS (SELECT 1 FROM other WHERE other.x = statsu)
            rls:
              enabled: true
              policies:
                p1: { command: SELECT, using: "auth.uid() = author_id AND ctid IS NOT NULL" }
`),
    );
    const errors = errorsOf(diagnostics);
    expect(errors.map((d) => [d.code, where(d), d.summary])).toEqual([
      ['config.reference', '10:47', "using of column status refers to column stauts, which crm.posts does not declare (did you mean 'status'?)"],
      ['config.reference', '12:28', "check posts_valid refers to column statsu, which crm.posts does not declare (did you mean 'status'?)"],
      ['config.reference', '16:47', 'using of policy p1 refers to column author_id, which crm.posts does not declare'],
    ]);
  });

  it('checks a foreign key to a declared table against its columns, and renamed_from against the other names', async () => {
    const { diagnostics } = await check(
      minimal(`          authors:
            columns:
              id: { type: uuid }
          posts:
            renamed_from: authors
            columns:
              id:        { type: uuid }
              author_id: { type: uuid, references: { table: authors, column: uid } }
              body:      { type: text, renamed_from: id }
`),
    );
    expect(errorsOf(diagnostics).map((d) => [d.code, where(d), d.summary])).toEqual([
      ['config.conflict', '11:27', 'table posts is renamed_from authors, which is declared too'],
      ['config.conflict', '15:54', 'column body is renamed_from id, which is declared too'],
      ['config.reference', '14:78', 'column author_id references crm.authors(uid), which that table does not declare'],
    ]);
  });

  it('warns about a type that is not built in (the plan checks the server has it)', async () => {
    const { diagnostics } = await check(minimal('          posts:\n            columns:\n              id: { type: txt }\n              tags: { type: "citext[]" }\n'));
    expect(errorsOf(diagnostics)).toEqual([]);
    expect(diagnostics.map((d) => [d.severity, d.code, d.summary])).toEqual([
      ['warning', 'config.reference', "'txt' is not a built-in PostgreSQL type (did you mean 'text'?)"],
      ['warning', 'config.reference', "'citext[]' is not a built-in PostgreSQL type"],
    ]);
  });
});

