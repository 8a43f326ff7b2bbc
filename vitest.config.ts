import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Servers in tests bind random loopback ports; a generous timeout absorbs shared-machine noise
    // without hiding hangs.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
