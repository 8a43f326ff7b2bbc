/**
 * Summarises a `.cpuprofile` written by `node --cpu-prof` (the executor bench writes one with
 * BENCH_EXECUTOR_PROFILE): where the busy time went, by area (this project's code, Fastify, pino,
 * prom-client, OpenTelemetry, other packages, Node's own JavaScript, native code and GC), then the
 * heaviest functions by self time. Idle time is left out, so shares are of the time spent working.
 *
 *   npx tsx bench/_cpuprofile.ts profiles/executor.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a function belongs to, from its script URL. */
export function areaOf(url: string, name: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || url === '') return 'native / V8';
  if (url.startsWith('node:')) return 'Node core (JS)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg === undefined) return url.includes('/src/') ? 'this project (src/)' : url.includes('/bench/') ? 'bench harness' : 'other';
  if (pkg === 'fastify' || pkg.startsWith('@fastify/') || pkg === 'find-my-way' || pkg === 'light-my-request' || pkg === 'avvio') return 'Fastify';
  if (pkg === 'pino' || pkg === 'sonic-boom' || pkg === 'fast-redact' || pkg === '@pinojs/redact' || pkg === 'pino-std-serializers') return 'pino';
  if (pkg === 'prom-client') return 'prom-client';
  if (pkg.startsWith('@opentelemetry/')) return 'OpenTelemetry API';
  return `package ${pkg}`;
}

/** Busy microseconds per area and per function (self time). */
export function summarise(profile: Profile): { busy: number; areas: Map<string, number>; functions: Map<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const dt = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    const area = areaOf(url, functionName);
    if (area === 'idle') continue;
    busy += dt;
    areas.set(area, (areas.get(area) ?? 0) + dt);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/')}:${lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + dt);
  }
  return { busy, areas, functions };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top = '30'] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: npx tsx bench/_cpuprofile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  const { busy, areas, functions } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
  process.stdout.write(`busy ${(busy / 1000).toFixed(0)} ms\n`);
  for (const [area, us] of [...areas].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${pct(us)}  ${area}\n`);
  process.stdout.write('\nheaviest functions (self time):\n');
  for (const [fn, us] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) process.stdout.write(`  ${pct(us)}  ${fn}\n`);
}
