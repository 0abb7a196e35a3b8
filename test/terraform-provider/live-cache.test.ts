/**
 * The provider's live cache (src/terraform-provider/live-cache.ts) against the emulator over HTTP:
 * a list read after a write sees it, and the list calls writes make stale are coalesced (one call
 * per list at a time) instead of one per write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FluxbaseClient } from '../../src/client/http.js';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { LiveCache } from '../../src/terraform-provider/live-cache.js';
import { api, startTestEmulator, tenantId } from './helpers.js';

describe('the provider live cache', () => {
  let emulator: RunningEmulator;
  let tenant: string;
  const createHook = async (name: string) => {
    const res = await api(emulator, 'POST', '/api/v1/webhooks', { tenant, body: { name, url: `https://hooks.example.com/${name}`, events: [] } });
    expect(res.status).toBe(201);
  };
  const cache = () => new LiveCache(new FluxbaseClient({ url: emulator.url, credentials: { token: emulator.serviceRoleToken } }));

  beforeAll(async () => {
    emulator = await startTestEmulator();
    tenant = await tenantId(emulator, 'default');
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it('shares one list call among readers, and reads a list again only after a write', async () => {
    const c = cache();
    await c.tenant('default');
    const before = c.calls;
    const [a, b] = await Promise.all([c.find('webhook', 'webhook.default.lc-none', 'default'), c.list('webhook', 'default')]);
    expect(a).toBeUndefined();
    expect(c.calls - before).toBe(1);
    await createHook('lc-one');
    expect(await c.find('webhook', 'webhook.default.lc-one', 'default')).toBeUndefined(); // no write through the cache: still the old list
    c.invalidate('webhook', 'default');
    expect(await c.find('webhook', 'webhook.default.lc-one', 'default')).toBeDefined();
    expect(c.calls - before).toBe(2);
    expect(b.some((r) => r.address === 'webhook.default.lc-one')).toBe(false);
  });

  it('coalesces: while a stale call runs, the readers after any number of writes share one new call', async () => {
    const c = cache();
    // The tenant list is read without an await before its call starts, so these steps run in this
    // order with the first call still running throughout.
    const first = c.list('tenant');
    c.invalidate('tenant'); // a write returned: the running call is stale
    const two = c.find('tenant', 'tenant.default'); // waits for it, then starts one
    c.invalidate('tenant'); // that call has not started: it will see this write too
    const again = c.list('tenant');
    c.invalidate('tenant');
    const three = c.find('tenant', 'tenant.default');
    expect(c.calls).toBe(1);
    await first;
    expect(await two).toBeDefined();
    expect(await three).toBe(await two);
    expect(await again).not.toBe(await first);
    expect(c.calls).toBe(2);
  });

  it('a reader after a write never shares a call that started before it', async () => {
    const c = cache();
    await c.tenant('default');
    const before = c.calls;
    const first = c.find('webhook', 'webhook.default.lc-four', 'default'); // starts a call at once
    await createHook('lc-four');
    c.invalidate('webhook', 'default');
    const after = c.find('webhook', 'webhook.default.lc-four', 'default');
    await first;
    expect(await after).toBeDefined();
    expect(c.calls - before).toBe(2);
  });
});
