import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import { ADMIN, Api, instanceAdminToken, startPgEmulator, uniq } from './helpers.js';

describe('emulator request pipeline (auth doc §0, §2.4; keys doc §12)', () => {
  let emu: RunningEmulator;
  let api: Api;

  beforeAll(async () => {
    emu = await startPgEmulator({ faults: { seed: 7, retryAfterSeconds: 2 } });
    api = new Api(emu);
  });
  afterAll(() => emu?.close());

  it('answers GET /health, with a services object for admin and service-role callers (F11)', async () => {
    const r = await api.get('/health', { token: null });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('ok');
    expect(r.body).not.toHaveProperty('services');
    const authed = await api.get('/health');
    expect(authed.body.services).toMatchObject({ database: true, realtime: true });
    expect(authed.body.services.database_size).toMatch(/\d+ (bytes|kB|MB)/);
  });

  it('keeps the full response of a request with an Idempotency-Key in platform.idempotency_keys, a new key value included (F10)', async () => {
    const key = `idem-${uniq('k')}`;
    const created = await api.post(`${ADMIN}/service-keys`, { name: uniq('idem') }, { headers: { 'idempotency-key': key } });
    expect(created.status).toBe(201);
    const replay = await api.post(`${ADMIN}/service-keys`, { name: 'other' }, { headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(422);
    const admin = api.as(await instanceAdminToken(emu));
    const stored = await admin.post(`${ADMIN}/sql/execute`, { query: `SELECT status, convert_from(response_body, 'UTF8') AS body FROM platform.idempotency_keys WHERE key = '${key}'` });
    expect(stored.body.results[0].rows[0].status).toBe('completed');
    expect(stored.body.results[0].rows[0].body).toContain(created.body.key);
  });

  it('answers unknown paths AND wrong methods with the catch-all 404, never 405', async () => {
    expect((await api.get(`${ADMIN}/nothing/here`)).body).toEqual({ error: 'Not Found', path: `${ADMIN}/nothing/here` });
    const wrongMethod = await api.call('PUT', `${ADMIN}/ddl/schemas`, { body: {} });
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body).toEqual({ error: 'Not Found', path: `${ADMIN}/ddl/schemas` });
    // the CLI's `tables describe` route is not registered on the server either
    expect((await api.get(`${ADMIN}/tables/public/x/columns`)).status).toBe(404);
  });

  it('tolerates a trailing slash and echoes X-Request-ID', async () => {
    const r = await api.get(`${ADMIN}/ddl/schemas/`, { headers: { 'x-request-id': 'req-123' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-request-id']).toBe('req-123');
    const err = await api.post(`${ADMIN}/ddl/schemas/`, { name: '' }, { headers: { 'x-request-id': 'req-456' } });
    expect(err.body.request_id).toBe('req-456');
  });

  it('encodes JSON like Go: <, > and & are escaped inside strings', async () => {
    const r = await api.post(`${ADMIN}/sql/execute`, { query: "SELECT '<a>&b' AS s" });
    expect(r.text).toContain('\\u003ca\\u003e\\u0026b');
    expect(r.body.results[0].rows[0].s).toBe('<a>&b');
  });

  it('binds keys case-insensitively and ignores unknown keys', async () => {
    const name = uniq('ci');
    const r = await api.post(`${ADMIN}/ddl/schemas`, { NAME: name, extra: true });
    expect(r.status).toBe(201);
    expect(r.body.schema).toBe(name);
  });

  describe('Idempotency-Key', () => {
    it('replays a completed request with Idempotency-Replayed: true', async () => {
      const name = uniq('idem');
      const headers = { 'idempotency-key': `k-${name}` };
      const first = await api.post(`${ADMIN}/ddl/schemas`, { name }, { headers });
      expect(first.status).toBe(201);
      const replay = await api.post(`${ADMIN}/ddl/schemas`, { name }, { headers });
      expect(replay.status).toBe(201);
      expect(replay.headers['idempotency-replayed']).toBe('true');
      expect(replay.body).toEqual(first.body);
    });

    it('refuses a reused key on another path (422 IDEMPOTENCY_KEY_MISMATCH) or body (IDEMPOTENCY_REQUEST_BODY_MISMATCH)', async () => {
      const name = uniq('idem');
      const headers = { 'idempotency-key': `k-${name}` };
      await api.post(`${ADMIN}/ddl/schemas`, { name }, { headers });
      const otherPath = await api.post(`${ADMIN}/schemas`, { name }, { headers });
      expect(otherPath.status).toBe(422);
      expect(otherPath.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_MISMATCH', details: { original_path: `${ADMIN}/ddl/schemas`, current_path: `${ADMIN}/schemas` } });
      const otherBody = await api.post(`${ADMIN}/ddl/schemas`, { name: `${name}x` }, { headers });
      expect(otherBody.status).toBe(422);
      expect(otherBody.body.code).toBe('IDEMPOTENCY_REQUEST_BODY_MISMATCH');
    });

    it('does not cache 5xx answers and rejects keys over 256 characters', async () => {
      const headers = { 'idempotency-key': `k-${uniq('fail')}` };
      const body = { schema: 'public', name: uniq('t'), columns: [{ name: 'a', type: 'text' }, { name: 'a', type: 'text' }] };
      expect((await api.post(`${ADMIN}/ddl/tables`, body, { headers })).status).toBe(500);
      const retry = await api.post(`${ADMIN}/ddl/tables`, body, { headers });
      expect(retry.status).toBe(500);
      expect(retry.headers['idempotency-replayed']).toBeUndefined();
      const long = await api.post(`${ADMIN}/ddl/schemas`, { name: 'x' }, { headers: { 'idempotency-key': 'k'.repeat(257) } });
      expect(long.status).toBe(400);
      expect(long.body.code).toBe('IDEMPOTENCY_KEY_TOO_LONG');
    });
  });

  describe('fault injection', () => {
    it('answers the configured share of /api requests with 429 (real body, Retry-After) deterministically, and counts requests', async () => {
      const before = emu.requestCount();
      emu.faults.rate429 = 0.5;
      const statuses: number[] = [];
      let limited;
      for (let i = 0; i < 20; i++) {
        const r = await api.get(`${ADMIN}/ddl/schemas`);
        statuses.push(r.status);
        if (r.status === 429) limited = r;
      }
      emu.faults.rate429 = 0;
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(3);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(3);
      expect(limited?.headers['retry-after']).toBe('2');
      expect(limited?.body).toEqual({ code: 'RATE_LIMIT_EXCEEDED', error: 'Rate limit exceeded', message: 'API rate limit exceeded. Maximum 100 requests per minute allowed.', retry_after: 2 });
      expect(emu.requestCount() - before).toBe(20);
      expect((await api.get('/health', { token: null })).status).toBe(200);
    });

    it('answers 503 when rate503 is 1 and recovers when it is reset', async () => {
      emu.faults.rate503 = 1;
      expect((await api.get(`${ADMIN}/ddl/schemas`)).status).toBe(503);
      expect((await api.get('/health', { token: null })).status).toBe(200);
      emu.faults.rate503 = 0;
      expect((await api.get(`${ADMIN}/ddl/schemas`)).status).toBe(200);
    });
  });
});

describe('fault sequence determinism', () => {
  it('faults the same requests for the same seed', async () => {
    const runOnce = async () => {
      const emu = await startPgEmulator({ faults: { rate429: 0.3, seed: 42 } });
      try {
        const api = new Api(emu);
        const out: number[] = [];
        for (let i = 0; i < 10; i++) out.push((await api.get(`${ADMIN}/ddl/schemas`)).status);
        return out;
      } finally {
        await emu.close();
      }
    };
    expect(await runOnce()).toEqual(await runOnce());
  });
});
