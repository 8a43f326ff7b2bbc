/**
 * `npm run screenshot`: takes the README's picture of the dashboard during `npm start`. Runs
 * `executor dev` (free ports, the demo batch), adds one undecodable job so a dead letter shows,
 * waits for the batch to finish, and photographs the overview in headless Chromium.
 *
 *   npm run screenshot [-- OUT.png]     default docs/dashboard.png
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium } from '../test/helpers/chromium.js';

const out = resolve(process.argv[2] ?? 'docs/dashboard.png');
const logFile = join(mkdtempSync(join(tmpdir(), 'screenshot-')), 'dev.log');

const dev = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'dev', '--port', '0', '--tier1-port', '0', '--tier2-port', '0', '--webhook-port', '0', '--log-file', logFile], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let stdout = '';
const served = new Promise<void>((resolveServed, reject) => {
  dev.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes('Still serving')) resolveServed();
  });
  dev.once('exit', (code) => reject(new Error(`executor dev exited with ${code} before serving:\n${stdout}`)));
});

try {
  await served;
  const dashboard = /dashboard (\S+)/.exec(stdout)?.[1];
  const tier1 = /tier 1 {4}(\S+)/.exec(stdout)?.[1];
  const queues = /curl (\S+)/.exec(stdout)?.[1];
  if (dashboard === undefined || tier1 === undefined || queues === undefined) throw new Error(`could not read the banner:\n${stdout}`);
  // One body no tier can decode, so the dead-letter queue has something to show.
  const res = await fetch(`${queues}/incoming/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      task: {
        httpRequest: {
          url: `${tier1}/`,
          httpMethod: 'POST',
          body: Buffer.from('{"sourceFile": "gs://demo-bucket/report.pdf", "webhookUrl": "not a url"}').toString('base64'),
          headers: { 'Content-Type': 'application/json' },
          oidcToken: { serviceAccountEmail: 'executor-local@local-project.iam.gserviceaccount.com' },
        },
      },
    }),
  });
  if (!res.ok) throw new Error(`creating the dead-letter example failed: ${res.status} ${await res.text()}`);
  const browser = await launchChromium({ width: 1200, height: 900 });
  try {
    const page = await browser.context.newPage();
    await page.goto(dashboard);
    await page.locator('.dead-letter').first().waitFor();
    await page.locator('.dead-letter summary').first().click();
    await page.screenshot({ path: out, fullPage: true });
    if (process.env.SCREENSHOT_NARROW !== undefined) {
      // A phone-width check of the same page, for whoever changes the layout.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: process.env.SCREENSHOT_NARROW, fullPage: true });
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(`${out}: ${Math.round(statSync(out).size / 1024)} KB\n`);
} finally {
  dev.kill('SIGINT');
}
