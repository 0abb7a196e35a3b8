import { describe, expect, it } from 'vitest';
import { declaredEvents, undeliverableReason, wireEvents } from '../../src/resources/webhook.js';

const ops = ['INSERT'];

describe('webhook events in the form the real server matches (F7)', () => {
  it('sends a default-tenant table both qualified (installs the trigger) and bare (matches), and reads them back as one', () => {
    const wire = wireEvents('default', [{ table: 'public.orders', operations: ops }]);
    expect(wire).toEqual([
      { table: 'orders', operations: ops },
      { table: 'public.orders', operations: ops },
    ]);
    expect(declaredEvents(wire)).toEqual([{ table: 'public.orders', operations: ops }]);
  });

  it("sends an auth table by its bare name, the server's own convention", () => {
    expect(wireEvents('default', [{ table: 'auth.users', operations: ops }])).toEqual([{ table: 'users', operations: ops }]);
    expect(declaredEvents([{ table: 'users', operations: ops }])).toEqual([{ table: 'auth.users', operations: ops }]);
  });

  it('never sends the bare name where it would deliver another table too, or where nothing is delivered', () => {
    expect(wireEvents('default', [{ table: 'public.users', operations: ops }])).toEqual([{ table: 'public.users', operations: ops }]);
    expect(undeliverableReason('default', 'public.users')).toContain('auth.users');
    expect(wireEvents('acme', [{ table: 'public.orders', operations: ops }])).toEqual([{ table: 'public.orders', operations: ops }]);
    expect(undeliverableReason('acme', 'public.orders')).toContain('own database');
    expect(undeliverableReason('default', 'public.orders')).toBeUndefined();
  });

  it('keeps a bare name whose operations differ from its qualified partner as the auth table it names', () => {
    const wire = [
      { table: 'orders', operations: ['DELETE'] },
      { table: 'public.orders', operations: ops },
    ];
    expect(declaredEvents(wire)).toEqual([
      { table: 'auth.orders', operations: ['DELETE'] },
      { table: 'public.orders', operations: ops },
    ]);
  });
});
