/**
 * The dashboard over HTTP, without a browser: content negotiation at /, the security headers, the
 * escaping of task bodies, paging, not-found pages and the event stream's messages.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

const PARENT = 'projects/p/locations/l';
const QUEUE = `${PARENT}/queues/held`;
let emulator: Emulator;

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${emulator.url}${path}`, { headers });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

async function createTask(body: string): Promise<string> {
  const res = await fetch(`${emulator.url}/v2/${QUEUE}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: { httpRequest: { url: 'http://127.0.0.1:9/', httpMethod: 'POST', body: Buffer.from(body).toString('base64') } } }),
  });
  return ((await res.json()) as { name: string }).name;
}

beforeAll(async () => {
  emulator = await startEmulator({ queues: { project: 'p', location: 'l', queues: [{ name: 'held', state: 'PAUSED' }] } });
});
afterAll(async () => {
  await emulator.close();
});

describe('the dashboard over HTTP', () => {
  it('serves the page at / to browsers and the JSON health answer to everyone else', async () => {
    const page = await get('/', { accept: 'text/html,application/xhtml+xml' });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<h1>Overview</h1>');
    expect(page.text).toContain('data-queue-row="projects/p/locations/l/queues/held"');
    expect(JSON.parse((await get('/')).text)).toEqual({ status: 'ok', service: 'cloud-tasks-emulator' });
    expect(emulator.dashboardUrl).toBe(`${emulator.url}/ui/`);
  });

  it('forbids inline script with its Content-Security-Policy', async () => {
    const page = await get('/ui/');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.text).not.toMatch(/<script>/);
  });

  it('shows a task body escaped, so markup in it stays text', async () => {
    const name = await createTask('<script>alert(1)</script>');
    const page = await get(`/ui/task?name=${encodeURIComponent(name)}`);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)');
  });

  it('answers the live refresh with the main section only', async () => {
    const fragment = await get('/ui/', { 'x-dashboard-fragment': 'main' });
    expect(fragment.text.startsWith('<h1>Overview</h1>')).toBe(true);
    expect(fragment.text).not.toContain('<html');
  });

  it('pages through a queue with many tasks', async () => {
    for (let i = 0; i < 55; i++) await createTask(`job ${i}`);
    const first = await get(`/ui/queue?name=${encodeURIComponent(QUEUE)}`);
    expect(first.text.match(/data-task-row=/g)).toHaveLength(50);
    const next = /href="([^"]*&amp;page=[^"]+)" rel="next"/.exec(first.text)?.[1];
    expect(next).toBeDefined();
    const second = await get(next!.replace(/&amp;/g, '&'));
    expect(second.text.match(/data-task-row=/g)!.length).toBeGreaterThan(0);
    expect(second.text).toContain('First page');
  });

  it('answers 404 with a page for a queue or task that does not exist', async () => {
    const q = await get(`/ui/queue?name=${encodeURIComponent(`${PARENT}/queues/nope`)}`);
    expect(q.status).toBe(404);
    expect(q.text).toContain('Queue does not exist');
    expect((await get('/ui/nothing-here')).status).toBe(404);
  });

  it('tells an open event stream when the engine changes', async () => {
    const received = new Promise<string>((resolve, reject) => {
      const req = request(`${emulator.url}/ui/events`, (res) => {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        let seen = '';
        res.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.includes('data: changed')) {
            req.destroy();
            resolve(seen);
          }
        });
        // The stream is open: now change something.
        void createTask('live');
      });
      req.on('error', reject);
      req.end();
    });
    expect(await received).toContain('data: changed\n\n');
  });

  it('shows each queue\'s enforced rate next to its configured maximum', async () => {
    const page = await get('/ui/');
    const row = /<tr data-queue-row="projects\/p\/locations\/l\/queues\/held">.*?<\/tr>/s.exec(page.text)?.[0] ?? '';
    // A fresh queue may use its whole configured rate (500/s by default).
    expect(row).toMatch(/data-label="Enforced rate"><span data-enforced>500\/s<\/span>/);
    expect(row).toContain('500/s, burst');
    const queue = await get(`/ui/queue?name=${encodeURIComponent(QUEUE)}`);
    expect(queue.text).toContain('<dt>Enforced rate</dt><dd><span data-enforced>500/s</span>');
  });

  it('lists Pub/Sub topics with their subscriptions and counts, and streams their changes', async () => {
    const put = (path: string, body: unknown): Promise<Response> =>
      fetch(`${emulator.url}/v1/${path}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await put('projects/p/topics/orders', {})).status).toBe(200);
    expect((await put('projects/p/subscriptions/orders-pull', { topic: 'projects/p/topics/orders', ackDeadlineSeconds: 30 })).status).toBe(200);
    const published = new Promise<string>((resolve, reject) => {
      const req = request(`${emulator.url}/ui/events`, (res) => {
        res.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('data: changed')) {
            req.destroy();
            resolve('changed');
          }
        });
        void fetch(`${emulator.url}/v1/projects/p/topics/orders:publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ data: Buffer.from('x').toString('base64') }] }),
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(await published).toBe('changed');
    const page = await get('/ui/');
    expect(page.text).toContain('data-topic="projects/p/topics/orders"');
    const row = /<tr data-subscription="projects\/p\/subscriptions\/orders-pull">.*?<\/tr>/s.exec(page.text)?.[0] ?? '';
    expect(row).toContain('>pull<');
    expect(row).toContain('>30s<');
    expect(row).toMatch(/data-waiting>1</);
    expect(row).toMatch(/data-unacked>0</);
  });
});
