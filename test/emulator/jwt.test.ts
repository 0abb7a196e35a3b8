/**
 * JwtService.verify remembers tokens that passed verification (no HMAC per request) but still
 * checks `exp` and `nbf` against the clock on every call, exactly as jose does.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT } from 'jose';
import { JwtService } from '../../src/emulator/auth/jwt.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const key = new TextEncoder().encode(SECRET);
const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);

describe('JwtService.verify', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects a remembered token once it has expired (exp <= now, whole seconds)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = 1_900_000_000;
    vi.setSystemTime(t0 * 1000);
    const jwt = new JwtService(SECRET);
    const token = await sign({ role: 'admin', exp: t0 + 10, user_metadata: { a: 1 } });
    expect(await jwt.verify(token)).toMatchObject({ role: 'admin', exp: t0 + 10 });
    vi.setSystemTime((t0 + 9) * 1000 + 999);
    const again = await jwt.verify(token);
    expect(again).toEqual({ role: 'admin', exp: t0 + 10, user_metadata: { a: 1 } });
    (again!.user_metadata as Record<string, unknown>).a = 2; // a caller's copy, not the remembered claims
    expect((await jwt.verify(token))?.user_metadata).toEqual({ a: 1 });
    vi.setSystemTime((t0 + 10) * 1000);
    expect(await jwt.verify(token)).toBeUndefined();
    expect(await new JwtService(SECRET).verify(token)).toBeUndefined();
  });

  it('accepts a token only from its nbf on, remembered or not', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = 1_900_000_000;
    vi.setSystemTime(t0 * 1000);
    const jwt = new JwtService(SECRET);
    const token = await sign({ role: 'admin', nbf: t0 + 5 });
    expect(await jwt.verify(token)).toBeUndefined();
    vi.setSystemTime((t0 + 5) * 1000);
    expect(await jwt.verify(token)).toMatchObject({ role: 'admin' });
    expect(await jwt.verify(token)).toMatchObject({ role: 'admin' });
  });

  it('never accepts a token signed with another secret or tampered with', async () => {
    const jwt = new JwtService(SECRET);
    const good = await sign({ role: 'admin' });
    expect(await jwt.verify(good)).toEqual({ role: 'admin' });
    const other = await new SignJWT({ role: 'admin' }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(`${SECRET}x`));
    expect(await jwt.verify(other)).toBeUndefined();
    const [h, , s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ role: 'instance_admin' })).toString('base64url')}.${s}`;
    expect(await jwt.verify(forged)).toBeUndefined();
    expect(await jwt.verify('')).toBeUndefined();
  });
});
