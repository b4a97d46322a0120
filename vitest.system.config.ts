import { defineConfig } from 'vitest/config';

// The system suite (`npm run test:system`): tests that need root, util-linux, libjpeg-turbo's
// jpegtran/cjpeg, git, pre-commit or the network. test/system/prerequisites.ts checks all of
// them before any test runs and fails naming every one that is missing (it never skips).
// `.ci/run` installs them on a Debian/Ubuntu machine.
export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    globalSetup: ['test/system/prerequisites.ts'],
    testTimeout: 0,
    hookTimeout: 0,
    // The system tests mount filesystems, install packages and run git repositories: one file at a time.
    fileParallelism: false,
  },
});
