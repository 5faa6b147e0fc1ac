import { defineConfig } from '@playwright/test';

// Browser tests drive Debian's Chromium; nothing downloads a browser at install time.
const executablePath = process.env.PKS_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: 'e2e',
  // Specs start whole stacks (the console spec: every role and Next's server) in their hooks; on a busy
  // 2-core machine with two workers that takes longer than a minute.
  timeout: 120_000,
  fullyParallel: false,
  workers: process.env.CI ? 1 : 2,
  reporter: process.env.CI ? 'list' : 'line',
  use: {
    browserName: 'chromium',
    headless: true,
    ignoreHTTPSErrors: false,
    launchOptions: {
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
});
