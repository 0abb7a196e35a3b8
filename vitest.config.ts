import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // every state journal line is checked against the whole document (src/state/journal.ts)
    env: { FLUXBASE_VERIFY_JOURNAL: '1' },
    // one PostgreSQL server per run for the emulator tests (test/support/postgres.ts)
    globalSetup: ['test/support/global-setup.ts'],
  },
});
