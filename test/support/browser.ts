// Headless Chromium (Debian's package, installed by .ci/run) driven by playwright-core, for tests that open
// the HTML a person would read. Flags as the toolchain notes give them: no sandbox as root, no background
// networking on this offline machine.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function openBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (.ci/run does)`);
  const profile = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'mlp-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      await fs.promises.rm(profile, { recursive: true, force: true });
    },
  };
}
