/**
 * Public addresses for the webhook hosts the examples and tests use. The emulator's URL guard is
 * on by default (as on a real server without FLUXBASE_DEBUG) and resolves DNS, which this offline
 * machine cannot reach; tests pass these as the emulator's `hosts` (static resolution, like
 * /etc/hosts). They cover the names RFC 2606 reserves for examples; 93.184.216.0/24 is a public
 * (non-private) range, so the guard accepts them.
 */
export const EXAMPLE_HOSTS: Readonly<Record<string, string>> = {
  'example.com': '93.184.216.34',
  '*.example.com': '93.184.216.34',
  '*.example': '93.184.216.35',
  '*.test': '93.184.216.36',
};
