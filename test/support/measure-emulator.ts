/**
 * Start-up measurements of the emulator (docs/emulator.md): `npx tsx test/support/measure-emulator.ts pglite-cold|pglite-warm|postgres`.
 * pglite-cold deletes the cached PGlite template first.
 */
import { rm } from 'node:fs/promises';
import { startEmulator } from '../../src/emulator/index.js';
import { pgliteTemplateCachePath } from '../../src/emulator/db/pglite-cluster.js';
import { startTestPostgres } from './postgres.js';
const mode = process.argv[2];
const rss = () => Math.round(process.memoryUsage().rss / 1e6);
if (mode === 'pglite-cold') {
  await rm(pgliteTemplateCachePath(), { force: true, recursive: true });
  const t = Date.now(); const e = await startEmulator(); console.log('pglite cold start (builds template) ms', Date.now() - t, 'rss MB', rss()); await e.close();
} else if (mode === 'pglite-warm') {
  const t = Date.now(); const e = await startEmulator(); console.log('pglite warm start (cached template) ms', Date.now() - t, 'rss MB', rss());
  const h = { authorization: `Bearer ${e.serviceRoleToken}`, 'content-type': 'application/json' };
  const t2 = Date.now();
  const r = await fetch(`${e.url}/api/v1/admin/tenants`, { method: 'POST', headers: h, body: JSON.stringify({ slug: 'm1', name: 'm' }) });
  console.log('pglite tenant create ms', Date.now() - t2, r.status, 'rss MB', rss());
  await e.close();
} else {
  const pg = await startTestPostgres();
  for (let i = 0; i < 3; i++) { const t = Date.now(); const e = await startEmulator({ storage: { kind: 'postgres', databaseUrl: pg.url } }); console.log('postgres emulator start ms', Date.now() - t, 'rss MB', rss());
    const h = { authorization: `Bearer ${e.serviceRoleToken}`, 'content-type': 'application/json' };
    const t2 = Date.now(); const r = await fetch(`${e.url}/api/v1/admin/tenants`, { method: 'POST', headers: h, body: JSON.stringify({ slug: 'm1', name: 'm' }) }); console.log('postgres tenant create ms', Date.now() - t2, r.status);
    const t3 = Date.now(); await e.close(); console.log('close ms', Date.now() - t3); }
  await pg.stop();
}
process.exit(0);
