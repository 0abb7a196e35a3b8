import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // one PostgreSQL server per run for the emulator tests (test/support/postgres.ts)
    globalSetup: ['test/support/global-setup.ts'],
  },
});
