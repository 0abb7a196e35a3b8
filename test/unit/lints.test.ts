/**
 * Security lints, one minimal configuration each: the lint fires (its code, its location, its
 * address) and the config switch `lints: { <code>: { reason } }` silences it; `only:` silences it
 * for the named table or policy alone. The CLI side is in test/e2e/lints.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../../src/engine/load.js';
import { validateDocument } from '../../src/engine/validate.js';
import { LINT_CODES, securityLints, type LintCode } from '../../src/access/lints.js';

const head = 'version: 1\ntenants:\n  default:\n    schemas:\n      public:\n        tables:\n';

/** A table `t` with the given lines (indented under it). */
function table(lines: string): string {
  return `${head}          t:\n${lines
    .trim()
    .split('\n')
    .map((l) => `            ${l}`)
    .join('\n')}\n`;
}

const COLUMNS = 'columns:\n  id: { type: integer, primary_key: true }\n  owner_id: { type: uuid }';
const GRANTED = 'grants: { anon: [SELECT, INSERT, UPDATE, DELETE], authenticated: [SELECT, INSERT, UPDATE, DELETE] }';

/**
 * Per lint: a minimal config that fires it, the line it points at, the address, and the lints that
 * necessarily fire with it (a sensitive column in a table without RLS is also a table without
 * RLS; the server reports both too).
 */
const CASES: Record<LintCode, { yaml: string; line: number; address: string; also?: LintCode[] }> = {
  'security.rls-disabled': { yaml: table(COLUMNS), line: 7, address: 'table.default.public.t' },
  'security.rls-no-policy': { yaml: table(`${COLUMNS}\n${GRANTED}\nrls: { enabled: true }`), line: 12, address: 'table.default.public.t' },
  'security.policy-always-true': {
    yaml: table(`${COLUMNS}\n${GRANTED}\nrls:\n  enabled: true\n  policies:\n    p: { command: DELETE, roles: [authenticated], using: "true" }`),
    line: 15,
    address: 'policy.default.public.t.p',
  },
  'security.anon-write': {
    yaml: table(`${COLUMNS}\n${GRANTED}\nrls:\n  enabled: true\n  policies:\n    p: { command: DELETE, roles: [anon], using: owner_id IS NULL }`),
    line: 15,
    address: 'policy.default.public.t.p',
  },
  'security.missing-with-check': {
    yaml: table(`${COLUMNS}\n${GRANTED}\nrls:\n  enabled: true\n  policies:\n    p: { command: UPDATE, roles: [authenticated], using: owner_id = auth.uid() }`),
    line: 15,
    address: 'policy.default.public.t.p',
  },
  'security.sensitive-column': {
    yaml: table(`${COLUMNS}\n  api_token: { type: text }\n${GRANTED}\nrls: { enabled: false }`),
    line: 11,
    address: 'table.default.public.t',
    also: ['security.rls-disabled'],
  },
  'security.public-role': {
    yaml: table(`${COLUMNS}\n${GRANTED}\nrls:\n  enabled: true\n  policies:\n    p: { command: SELECT, using: owner_id IS NOT NULL }`),
    line: 15,
    address: 'policy.default.public.t.p',
  },
  'security.policy-without-grant': {
    yaml: table(`${COLUMNS}\nrls:\n  enabled: true\n  policies:\n    p: { command: SELECT, roles: [authenticated], using: owner_id = auth.uid() }`),
    line: 14,
    address: 'policy.default.public.t.p',
  },
  'security.unreachable-role': {
    yaml: table(`${COLUMNS}\n${GRANTED}\nrls:\n  enabled: true\n  policies:\n    p: { command: SELECT, roles: [editor], using: owner_id IS NOT NULL }`),
    line: 15,
    address: 'policy.default.public.t.p',
  },
};

async function lint(yaml: string) {
  const { config, diagnostics } = await validateDocument(loadConfigText(yaml, 'fluxbase.config.yaml', { env: {} }));
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return securityLints(config!);
}

describe('security lints', () => {
  it('has a minimal configuration for every lint code', () => {
    expect(Object.keys(CASES).sort()).toEqual([...LINT_CODES].sort());
  });

  it.each(Object.entries(CASES))('%s fires on a minimal configuration, located, and only it', async (code, c) => {
    const found = (await lint(c.yaml)).filter((d) => !c.also?.includes(d.code as LintCode));
    expect((await lint(c.yaml)).map((d) => d.code).sort()).toEqual([code, ...(c.also ?? [])].sort());
    expect(found[0]).toMatchObject({ severity: 'warning', address: c.address, location: { file: 'fluxbase.config.yaml', line: c.line } });
    expect(found[0]!.detail).toContain(`lints: { ${code}: { reason:`);
  });

  it.each(Object.entries(CASES))('%s is silenced by its switch, with a reason', async (code, c) => {
    const codes = async (yaml: string) => (await lint(yaml)).map((d) => d.code).filter((x) => !c.also?.includes(x as LintCode));
    expect(await codes(`${c.yaml}lints:\n  ${code}: { reason: accepted in review }\n`)).toEqual([]);
    // Silenced for another table only: it still fires here.
    expect(await codes(`${c.yaml}lints:\n  ${code}: { reason: accepted in review, only: [table.default.public.other] }\n`)).toEqual(['config.reference', code]);
    expect(await codes(`${c.yaml}lints:\n  ${code}: { reason: accepted in review, only: [table.default.public.t] }\n`)).toEqual([]);
  });

  it('requires the reason', async () => {
    const { diagnostics } = await validateDocument(loadConfigText(`${CASES['security.rls-disabled'].yaml}lints:\n  security.rls-disabled: {}\n`, 'fluxbase.config.yaml', { env: {} }));
    expect(diagnostics.map((d) => [d.code, d.summary])).toEqual([['config.schema', "missing required key 'reason'"]]);
  });

  it("covers what the server's security scan reports, before anything reaches the server", async () => {
    // GET /api/v1/admin/security/warnings checks (internal/api/policy_handler.go:498-733), by id prefix.
    const server = ['no-rls', 'no-policies', 'permissive', 'anon-write', 'no-check', 'sensitive-no-rls', 'public-access'];
    const ours: LintCode[] = ['security.rls-disabled', 'security.rls-no-policy', 'security.policy-always-true', 'security.anon-write', 'security.missing-with-check', 'security.sensitive-column', 'security.public-role'];
    expect(ours).toHaveLength(server.length);
    for (const code of ours) expect(LINT_CODES).toContain(code);
  });
});
