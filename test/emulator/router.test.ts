/** The route table's matching rules (Fiber's, as the server configures them). */
import { describe, expect, it } from 'vitest';
import { Router } from '../../src/emulator/http/router.js';

describe('Router.match', () => {
  const h = (name: string) => Object.assign(() => {}, { label: name });
  const router = new Router();
  router.add('GET', '/api/v1/admin/tables/:schema/:table', h('table'));
  router.add('GET', '/api/v1/admin/tables/public/special', h('shadowed literal'));
  router.add('get', '/api/v1/Admin/Policies', h('policies'));
  router.add('POST', '/api/v1/files/*', h('files'));
  router.add('GET', '/api/v1/admin/tables', h('tables'));
  const label = (method: string, path: string) => {
    const m = router.match(method, path);
    return m ? { label: (m.chain[0] as unknown as { label: string }).label, params: m.params } : undefined;
  };

  it('tries routes in registration order; literals match case-insensitively; a trailing slash is ignored', () => {
    expect(label('GET', '/api/v1/admin/tables/public/special')).toEqual({ label: 'table', params: { schema: 'public', table: 'special' } });
    expect(label('GET', '/API/V1/ADMIN/policies/')).toEqual({ label: 'policies', params: {} });
    expect(label('GET', '/api/v1/admin/tables/')).toEqual({ label: 'tables', params: {} });
    expect(label('HEAD', '/api/v1/admin/tables')).toEqual({ label: 'tables', params: {} });
  });

  it('keeps params raw, needs them non-empty, and matches only paths of the same length (but for *)', () => {
    expect(label('GET', '/api/v1/admin/tables/My%20Schema/T')).toEqual({ label: 'table', params: { schema: 'My%20Schema', table: 'T' } });
    expect(label('GET', '/api/v1/admin/tables//t')).toBeUndefined();
    expect(label('GET', '/api/v1/admin/tables/s/t/extra')).toBeUndefined();
    expect(label('GET', '/api/v1/admin')).toBeUndefined();
    expect(label('POST', '/api/v1/files/a/b/c')).toEqual({ label: 'files', params: { '*': 'a/b/c' } });
    expect(label('POST', '/api/v1/files')).toEqual({ label: 'files', params: { '*': '' } });
    expect(label('PUT', '/api/v1/files/a')).toBeUndefined();
  });
});
