import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { isPrivateIp } from '../../src/emulator/webhooks/guard.js';
import { ADMIN, Api, instanceAdminToken, signToken, startPgEmulator } from './helpers.js';

const W = '/api/v1/webhooks';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

describe('emulator webhooks (keys doc §3)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  let receiverStatus = 200;

  beforeAll(async () => {
    // Deliveries go to a receiver on 127.0.0.1, which only a server with FLUXBASE_DEBUG=true
    // allows (the URL guard, F9): this emulator runs in that documented debug mode.
    emu = await startPgEmulator({ webhookUrlGuard: false });
    api = new Api(emu);
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = receiverStatus;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    await emu?.close();
    await new Promise((r) => receiver.close(r));
  });

  it('authenticates with a Bearer JWT, X-Service-Key JWT, and refuses opaque keys and nothing', async () => {
    expect((await api.get(W, { token: null })).body).toEqual({ error: 'Authentication required. Provide Bearer token, X-Client-Key, or X-Service-Key' });
    expect((await api.get(W, { token: 'sk_live_x' })).body).toEqual({ error: 'Invalid or expired Bearer token' });
    expect((await api.get(W, { token: null, headers: { 'x-service-key': 'sk_live_x' } })).body).toEqual({ error: 'Invalid service key' });
    expect((await api.get(W, { token: null, headers: { 'x-service-key': 'eyJnope' } })).body).toEqual({ error: 'Invalid service role token' });
    expect((await api.get(W, { token: null, headers: { 'x-service-key': emu.serviceRoleToken } })).status).toBe(200);
    expect((await api.get(W, { token: null, headers: { authorization: `ServiceKey ${emu.serviceRoleToken}` } })).status).toBe(200);
    const appUser = await signToken(emu, { user_id: randomUUID(), role: 'authenticated' });
    expect((await api.get(W, { token: appUser })).status).toBe(200);
    expect((await api.get(W)).body).toEqual([]);
  });

  it('creates with server defaults (enabled false) and never returns the secret', async () => {
    const r = await api.post(W, { name: 'orders', url: receiverUrl, secret: 's3cret', events: [{ table: 'public.orders', operations: ['INSERT'] }] });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'orders', url: receiverUrl, enabled: false, max_retries: 3, retry_backoff_seconds: 5, timeout_seconds: 30, headers: {}, scope: 'user', events: [{ table: 'public.orders', operations: ['INSERT'] }] });
    expect(r.body).not.toHaveProperty('secret');
    expect(r.body).not.toHaveProperty('tenant_id');
    expect(r.body).not.toHaveProperty('description');
    expect(r.body).not.toHaveProperty('created_by');
    const got = await api.get(`${W}/${r.body.id}`);
    expect(got.body).toEqual(r.body);
    expect(JSON.stringify(got.body)).not.toContain('s3cret');
    expect((await api.post(W, { url: receiverUrl })).body).toMatchObject({ error: 'Name is required', code: 'MISSING_REQUIRED_FIELD' });
    expect((await api.post(W, { name: 'x' })).body).toMatchObject({ error: 'URL is required', code: 'MISSING_REQUIRED_FIELD' });
    expect((await api.post(W, { name: 'x', url: receiverUrl, scope: 'team' })).status).toBe(500);
    expect((await api.post(W, { name: 'x', url: receiverUrl, headers: { Host: 'evil' } })).body).toMatchObject({ error: 'Failed to create webhook' });
  });

  it('records the dashboard user as created_by and lists newest first', async () => {
    const userId = randomUUID();
    const admin = api.as(await instanceAdminToken(emu, userId));
    const a = await admin.post(W, { name: 'first', url: receiverUrl, scope: 'global', enabled: true });
    expect(a.body).toMatchObject({ created_by: userId, scope: 'global', enabled: true });
    const b = await admin.post(W, { name: 'second', url: receiverUrl });
    const list = (await api.get(W)).body.map((w: { name: string }) => w.name);
    expect(list.indexOf('second')).toBeLessThan(list.indexOf('first'));
    expect(b.status).toBe(201);
  });

  it('treats PATCH as a full replacement: omitted secret erased, enabled false, headers null', async () => {
    const created = await api.post(W, { name: 'full', url: receiverUrl, secret: 'k', enabled: true, headers: { 'X-Env': 'prod' }, max_retries: 7, description: 'd' });
    const id = created.body.id;
    const r = await api.patch(`${W}/${id}`, { name: 'renamed', url: receiverUrl });
    expect(r.body).toEqual({ success: true, message: 'Webhook updated successfully' });
    const after = (await api.get(`${W}/${id}`)).body;
    expect(after).toMatchObject({ name: 'renamed', enabled: false, max_retries: 0, retry_backoff_seconds: 0, timeout_seconds: 0, headers: null, events: null, scope: 'user' });
    expect(after).not.toHaveProperty('description');
    expect(after.updated_at > created.body.updated_at).toBe(true);
    // the secret is gone: a test delivery carries no signature headers
    received.length = 0;
    expect((await api.post(`${W}/${id}/test`)).status).toBe(200);
    expect(received[0]?.headers['x-fluxbase-signature']).toBeUndefined();
    const missing = await api.patch(`${W}/${randomUUID()}`, { name: 'x', url: receiverUrl });
    expect(missing.status).toBe(500);
    expect(missing.body).toMatchObject({ error: 'Failed to update webhook', code: 'INTERNAL_ERROR' });
    expect((await api.patch(`${W}/not-a-uuid`, {})).body).toMatchObject({ error: 'Invalid webhook ID', code: 'INVALID_ID' });
  });

  it('sends the TEST payload with both signatures, even when disabled, and answers 500 when the receiver fails', async () => {
    const { body } = await api.post(W, { name: 'signed', url: receiverUrl, secret: 'topsecret', headers: { 'X-Env': 'test' } });
    received.length = 0;
    const r = await api.post(`${W}/${body.id}/test`);
    expect(r.body).toEqual({ success: true, message: 'Test webhook sent successfully' });
    const got = received[0] as Received;
    const payload = JSON.parse(got.body);
    expect(payload).toMatchObject({ event: 'TEST', table: 'test', schema: 'public', record: { test: true } });
    expect(got.body.startsWith('{"event":"TEST","table":"test","schema":"public","record":{"test":true},"timestamp":"')).toBe(true);
    expect(got.headers['user-agent']).toBe('Fluxbase-Webhooks/1.0');
    expect(got.headers['x-env']).toBe('test');
    const sig = String(got.headers['x-fluxbase-signature']);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig) ?? [];
    expect(v1).toBe(createHmac('sha256', 'topsecret').update(`${t}.${got.body}`).digest('hex'));
    expect(got.headers['x-webhook-signature']).toBe(createHmac('sha256', 'topsecret').update(got.body).digest('hex'));
    receiverStatus = 500;
    const failed = await api.post(`${W}/${body.id}/test`);
    receiverStatus = 200;
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ error: 'Failed to send test webhook', code: 'INTERNAL_ERROR' });
    expect((await api.post(`${W}/${randomUUID()}/test`)).status).toBe(404);
  });

  it('lists deliveries as null when there are none, 500 for a missing webhook; deletes with a 200 envelope', async () => {
    const { body } = await api.post(W, { name: 'del', url: receiverUrl });
    expect((await api.get(`${W}/${body.id}/deliveries`)).body).toBeNull();
    expect((await api.get(`${W}/${randomUUID()}/deliveries`)).status).toBe(500);
    expect((await api.delete(`${W}/${body.id}`)).body).toEqual({ success: true, message: 'Webhook deleted successfully' });
    const again = await api.delete(`${W}/${body.id}`);
    expect(again.status).toBe(500);
    expect(again.body.error).toBe('Failed to delete webhook');
    expect((await api.get(`${W}/${body.id}`)).status).toBe(404);
  });

  it('filters by tenant: a tenant sees only its own webhooks; a slug header makes create panic (500)', async () => {
    const t = await api.post(`${ADMIN}/tenants`, { slug: 'hooks', name: 'H' });
    const tenant = t.body.tenant.id;
    expect((await api.get(W, { tenant })).body).toEqual([]);
    const own = await api.post(W, { name: 'tenant-hook', url: receiverUrl }, { tenant });
    expect(own.status).toBe(201);
    expect((await api.get(W, { tenant })).body.map((w: { name: string }) => w.name)).toEqual(['tenant-hook']);
    expect((await api.get(W)).body.map((w: { name: string }) => w.name)).not.toContain('tenant-hook');
    const viaSlug = await api.post(W, { name: 'x', url: receiverUrl }, { tenant: 'hooks' });
    expect(viaSlug.status).toBe(500);
    expect(viaSlug.body).toMatchObject({ error: 'Internal Server Error', code: 'INTERNAL_ERROR' });
    expect((await api.get(W, { tenant: 'no-such' })).body).toEqual({ error: 'tenant not found' });
  });
});

describe('webhook URL guard', () => {
  it('classifies private, loopback and link-local addresses like the server', () => {
    for (const ip of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '224.0.0.5']) {
      expect(isPrivateIp(ip), ip).toBe(true);
    }
    for (const ip of ['8.8.8.8', '0.0.0.0', '100.64.0.1', '172.32.0.1', '2001:db8::1']) {
      expect(isPrivateIp(ip), ip).toBe(false);
    }
  });

  it('refuses loopback, internal names and unresolvable hosts with 500 by default (F9), and accepts them in debug mode', async () => {
    const on = await startPgEmulator();
    try {
      const api = new Api(on);
      for (const url of ['http://127.0.0.1:9/x', 'http://localhost/x', 'ftp://example.com/x', 'http://metadata.google.internal/x', 'http://10.0.0.1/x', 'http://unresolvable.invalid/x']) {
        const r = await api.post(W, { name: 'x', url });
        expect(r.status, url).toBe(500);
        expect(r.body).toMatchObject({ error: 'Failed to create webhook', code: 'INTERNAL_ERROR' });
      }
      const created = await new Api(on).post(W, { name: 'ipv4-public', url: 'http://8.8.8.8/x' });
      expect(created.status).toBe(201);
      const update = await api.patch(`${W}/${created.body.id}`, { name: 'x', url: 'http://127.0.0.1/x' });
      expect(update.body.error).toBe('Failed to update webhook');
    } finally {
      await on.close();
    }
    const off = await startPgEmulator({ webhookUrlGuard: false });
    try {
      expect((await new Api(off).post(W, { name: 'x', url: 'http://127.0.0.1:9/x' })).status).toBe(201);
      expect((await new Api(off).post(W, { name: 'x', url: 'not a url' })).status).toBe(201);
    } finally {
      await off.close();
    }
  });
});

describe('webhook triggers and tokens on the real server (F5, F7)', () => {
  let emu: RunningEmulator;
  let api: Api;
  let admin: string;
  const sql = async (query: string, tenant?: string) => {
    const r = await api.post(`${ADMIN}/sql/execute`, { query }, { token: admin, tenant });
    return r.body.results as { rows?: Record<string, unknown>[]; error?: string }[];
  };
  const queued = async () => (await sql('SELECT table_schema, table_name, event_type FROM auth.webhook_events ORDER BY created_at'))[0]!.rows ?? [];

  beforeAll(async () => {
    emu = await startPgEmulator();
    api = new Api(emu);
    admin = await instanceAdminToken(emu);
    for (const [name, cols] of [['orders', [{ name: 'id', type: 'uuid', primaryKey: true, defaultValue: 'gen_random_uuid()' }, { name: 'note', type: 'text', nullable: true }]], ['logs', [{ name: 'line', type: 'text' }]]] as const) {
      expect((await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name, columns: cols })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('installs the trigger on schema.table but matches events only by the bare table name', async () => {
    const hook = await api.post(W, { name: 'orders', url: 'https://hooks.example.com/o', enabled: true, scope: 'global', events: [{ table: 'public.orders', operations: ['INSERT'] }] });
    expect(hook.status).toBe(201);
    expect((await sql("INSERT INTO public.orders (note) VALUES ('a')"))[0]!.error).toBeUndefined();
    expect(await queued()).toEqual([]);
    const both = [{ table: 'public.orders', operations: ['INSERT'] }, { table: 'orders', operations: ['INSERT'] }];
    expect((await api.patch(`${W}/${hook.body.id}`, { name: 'orders', url: 'https://hooks.example.com/o', enabled: true, scope: 'global', events: both })).status).toBe(200);
    await sql("INSERT INTO public.orders (note) VALUES ('b')");
    expect(await queued()).toEqual([{ table_schema: 'public', table_name: 'orders', event_type: 'INSERT' }]);
  });

  it('makes every write to a watched table without an id column fail', async () => {
    expect((await api.post(W, { name: 'logs', url: 'https://hooks.example.com/l', enabled: true, events: [{ table: 'public.logs', operations: ['INSERT'] }] })).status).toBe(201);
    expect((await sql("INSERT INTO public.logs (line) VALUES ('x')"))[0]!.error).toMatch(/has no field "id"/);
  });

  it('never installs a trigger in a tenant database', async () => {
    const t = await api.post(`${ADMIN}/tenants`, { slug: 'hooked', name: 'Hooked' });
    const tenant = t.body.tenant.id as string;
    expect((await api.post(`${ADMIN}/ddl/tables`, { schema: 'public', name: 'items', columns: [{ name: 'id', type: 'uuid', primaryKey: true, defaultValue: 'gen_random_uuid()' }] }, { tenant })).status).toBe(201);
    const events = [{ table: 'public.items', operations: ['INSERT'] }, { table: 'items', operations: ['INSERT'] }];
    expect((await api.post(W, { name: 'items', url: 'https://hooks.example.com/i', enabled: true, scope: 'global', events }, { tenant })).status).toBe(201);
    const triggers = await sql("SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE 'webhook_trigger_%'", tenant);
    expect(triggers[0]!.rows).toEqual([{ n: 0 }]);
  });

  it('answers 500 on the webhook and client-key routes for a JWT without iat, except an instance_admin one (F5)', async () => {
    const { SignJWT } = await import('jose');
    const noIat = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(emu.jwtSecret));
    const serviceRole = await noIat({ role: 'service_role', iss: 'fluxbase' });
    for (const route of [W, '/api/v1/client-keys']) {
      const r = await api.get(route, { token: serviceRole });
      expect(r.status, route).toBe(500);
      expect(r.body).toMatchObject({ error: 'Internal Server Error' });
    }
    expect((await api.get(`${ADMIN}/tenants`, { token: serviceRole })).status).toBe(200);
    expect((await api.get(W, { token: await noIat({ role: 'instance_admin', sub: 'u', user_id: 'u' }) })).status).toBe(200);
    expect((await api.get(W, { token: emu.serviceRoleToken })).status).toBe(200);
  });
});
