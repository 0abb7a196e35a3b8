/**
 * `GET /health` (and `GET /`): `{"status":"ok"|"degraded","timestamp":…}`; degraded (503) when
 * the main database does not answer. Never subject to fault injection.
 */
import type { EmulatorApp } from '../app.js';
import type { Router } from '../http/router.js';
import { goNowJson } from '../http/json.js';

export function registerHealth(router: Router, app: EmulatorApp): void {
  const handler = async (ctx: Parameters<Parameters<Router['add']>[2]>[0]): Promise<void> => {
    let ok = true;
    try {
      await app.main.query('SELECT 1');
    } catch {
      ok = false;
    }
    ctx.json(ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', timestamp: goNowJson() });
  };
  router.add('GET', '/health', handler);
  router.add('GET', '/', handler);
}
