/**
 * `fluxbase demo`: start an in-memory emulator, plan and apply a configuration (the example
 * shipped with the package, `fluxbase.config.yaml` at its root, unless `-c FILE` is given), show
 * that a second plan has no changes, and stop. Environment variables the config needs but that
 * are unset get generated demo values. New key values are discarded with the emulator: nothing
 * is written to disk.
 */
import { randomBytes } from 'node:crypto';
import { applyPlan } from '../engine/apply.js';
import { renderPlan, styler } from '../engine/render.js';
import { planConfig } from '../engine/session.js';
import { loadWithPlaceholders } from './common.js';
import { FluxbaseClient } from '../client/http.js';
import { HAZARD_TYPES, hasChanges } from '../model/plan.js';
import { MemoryStateBackend } from '../state/local.js';
import { printDiagnostics, type CommandIO } from './io.js';
import { hasErrors } from '../diag/index.js';
import { fileURLToPath } from 'node:url';
import { applyCompleteLine, applyEventLine } from './output.js';

/** The example configuration shipped with the package (the repository's root config). */
export const DEMO_CONFIG = fileURLToPath(new URL('../../fluxbase.config.yaml', import.meta.url));

/** Creates the emulator's first dashboard admin through POST /api/v1/admin/setup. */
async function createAdmin(url: string, setupToken: string): Promise<{ email: string; password: string }> {
  const admin = { email: 'demo-admin@example.com', password: randomBytes(18).toString('base64url') };
  const res = await fetch(`${url}/api/v1/admin/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...admin, name: 'Demo admin', setup_token: setupToken }),
  });
  if (res.status !== 201) throw new Error(`emulator setup failed: ${res.status} ${await res.text()}`);
  return admin;
}

/** Runs the demo; 0 when the second plan is clean. */
export async function demoCommand(io: CommandIO, options: { config?: string }): Promise<number> {
  const c = styler(io.color);
  const config = options.config ?? DEMO_CONFIG;
  const prepared = await loadWithPlaceholders(io, { config });
  if (!prepared) return 1;
  const { loaded } = prepared;
  for (const name of prepared.filled) io.out(c.dim(`demo: ${name} is not set; using a generated value.`));
  if (!loaded.valid) {
    printDiagnostics(io, loaded.diagnostics);
    return 1;
  }
  printDiagnostics(io, loaded.diagnostics);
  const { startEmulator } = await import('../emulator/index.js');
  io.out(c.bold('Starting the local Fluxbase emulator (embedded PostgreSQL, in memory)...'));
  io.out(c.dim('It behaves like Fluxbase 2026.3.7 run with FLUXBASE_DEBUG=true, so the example webhook hosts need no DNS (this machine may be offline).'));
  const started = Date.now();
  const setupToken = randomBytes(16).toString('hex');
  // FLUXBASE_DEBUG=true on the real server turns the webhook URL guard off (F9); everything else is the real behaviour.
  const emulator = await startEmulator({ storage: { kind: 'pglite' }, setupToken, webhookUrlGuard: false });
  io.out(`Emulator listening on ${emulator.url} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
  // A dashboard admin (custom settings need a user) plus the service-role JWT (tenant migrations).
  const admin = await createAdmin(emulator.url, setupToken);
  const client = new FluxbaseClient({ url: emulator.url, credentials: { token: emulator.serviceRoleToken, ...admin } });
  const backend = new MemoryStateBackend();
  try {
    io.out(c.bold(`== fluxbase plan (${options.config ?? 'the example fluxbase.config.yaml shipped with fluxbase-iac'}) ==`));
    const first = await planConfig({ client, valid: loaded.valid, state: await backend.read() });
    if (hasErrors(first.plan.diagnostics)) {
      printDiagnostics(io, first.plan.diagnostics);
      return 1;
    }
    io.out(renderPlan(first.plan, { color: io.color }));
    io.out(c.bold('\n== fluxbase apply --auto-approve =='));
    const report = await applyPlan({
      client,
      plan: first.plan,
      desired: first.desired,
      tenants: first.live.tenants,
      state: first.state,
      persist: (s) => backend.write(s),
      allowHazards: new Set(HAZARD_TYPES),
      onEvent: (e) => {
        const line = e.type === 'start' ? undefined : applyEventLine(e, c);
        if (line) io.out(line);
      },
    });
    if (hasErrors(report.diagnostics)) {
      printDiagnostics(io, report.diagnostics);
      return 1;
    }
    io.out(c.bold(c.green(`\n${applyCompleteLine(first.plan)}`)));
    if (report.revealed.length > 0) {
      io.out(
        c.dim(
          `New key values (${report.revealed.map((r) => r.name).join(', ')}) are discarded with the demo's server; \`fluxbase apply\` shows them once on a terminal or appends them to --secrets-out FILE.`,
        ),
      );
    }
    io.out(c.bold('\n== fluxbase plan (again) =='));
    const calls = client.totalCalls();
    const t0 = Date.now();
    const second = await planConfig({ client, valid: loaded.valid, state: await backend.read() });
    printDiagnostics(io, second.plan.diagnostics);
    io.out(renderPlan(second.plan, { color: io.color }));
    io.out(c.dim(`(second plan: ${client.totalCalls() - calls} API calls, ${Date.now() - t0} ms)`));
    return hasChanges(second.plan) || hasErrors(second.plan.diagnostics) ? 1 : 0;
  } finally {
    await client.close();
    await emulator.close();
  }
}
