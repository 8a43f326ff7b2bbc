/**
 * Starts Debian's Chromium (`apt-get install -y chromium`) through playwright-core for the
 * dashboard's browser tests and the README screenshot: headless, no sandbox (containers), no
 * network chatter of its own, a fresh profile each time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Where Debian's package installs the browser; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser cannot run here, or undefined when it can. */
export function chromiumUnavailable(): string | undefined {
  return existsSync(CHROMIUM_PATH)
    ? undefined
    : `Chromium not found at ${CHROMIUM_PATH}: install it with 'apt-get update && apt-get install -y chromium' (or set CHROMIUM_PATH)`;
}

/** A running browser; `close` also removes its profile directory. */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh --user-data-dir (playwright passes it from the persistent-context directory). */
export async function launchChromium(viewport = { width: 1280, height: 900 }): Promise<Chromium> {
  const missing = chromiumUnavailable();
  if (missing !== undefined) throw new Error(missing);
  const profile = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
