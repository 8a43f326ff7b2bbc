/**
 * Refuses to start on a Node.js older than the one the dependencies need, with one line instead of
 * the stack trace an old Node would print deep inside undici or google-gax. `cli.ts` imports this
 * module first, so it runs before any dependency is loaded; it uses only syntax every Node that can
 * load an ES module parses (no optional chaining, no top-level await), on purpose.
 */

/** The oldest Node.js this package supports; equals `engines.node` in package.json (a test pins that). */
export const MIN_NODE = '22.19.0';

/** True when `version` ("v22.19.0" or "22.19.0") is at least `MIN_NODE`. */
export function isSupportedNode(version: string): boolean {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = MIN_NODE.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    const h = have[i] || 0;
    const n = need[i] || 0;
    if (h !== n) return h > n;
  }
  return true;
}

if (!isSupportedNode(process.versions.node)) {
  process.stderr.write(
    'executor: needs Node.js ' + MIN_NODE + ' or newer, this is ' + process.version +
      '. Install Node.js 24 (the current LTS) or 22, e.g. from https://nodejs.org or with nvm/fnm.\n',
  );
  process.exit(1);
}
