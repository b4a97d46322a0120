import { defineConfig } from 'vitest/config';

// The main suite (`npm test`): runs on any machine with Node 20 and `npm ci`, with no system
// tools, no root and nothing outside the repository. Tests that need those live in test/system/
// (vitest.system.config.ts, `npm run test:system`). No time limits: a test that is slow under
// load is not a failing test (testTimeout/hookTimeout 0 turn vitest's default 5 s limit off).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/system/**', '**/node_modules/**'],
    testTimeout: 0,
    hookTimeout: 0,
  },
});
