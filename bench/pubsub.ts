// Pub/Sub benchmark: messages published and consumed through the official @google-cloud/pubsub
// client against an `executor emulator` process (its own process, as in real use).
// - End to end: BENCH_PUBSUB_MESSAGES messages published with the client's default batching, received
//   by subscription.on('message') (StreamingPull) and acked; the clock runs from the first publish
//   to the last message received. Reports messages/s and the emulator's CPU µs per message
//   (publish + delivery + ack, Linux /proc; the client's own CPU is reported apart).
// - Idle: the emulator's CPU over BENCH_PUBSUB_IDLE_SECONDS with the stream still open and nothing
//   to deliver (event-driven: no polling loop).
// Run: `npm run bench -- pubsub` or `npx tsx bench/pubsub.ts`.
// Knobs: BENCH_PUBSUB_MESSAGES (default 20000), BENCH_PUBSUB_SIZE (payload bytes, default 100),
// BENCH_PUBSUB_RUNS (default 1), BENCH_PUBSUB_IDLE_SECONDS (default 5).
import { pathToFileURL } from 'node:url';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { intEnv } from './_env.js';
import { processCpuSeconds, startEmulatorProcess } from './emulator.js';

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

async function emulatorAcked(url: string): Promise<number> {
  const stats = (await (await fetch(`${url}/emulator/stats`)).json()) as { pubsub: { acked: number } };
  return stats.pubsub.acked;
}

/** One end-to-end run on a fresh topic and subscription. */
async function endToEnd(pubsub: PubSub, url: string, pid: number | undefined, run: number, messages: number, size: number) {
  const [topic] = await pubsub.createTopic(`bench-topic-${run}`);
  const [sub] = await topic.createSubscription(`bench-sub-${run}`);
  const payload = Buffer.alloc(size, 'x');
  let received = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  const subscription = pubsub.subscription(sub.name, { flowControl: { maxMessages: 2000, allowExcessMessages: false } });
  subscription.on('message', (m: Message) => {
    m.ack();
    if (++received === messages) done();
  });
  subscription.on('error', (err: Error) => print(`subscriber error: ${err.message}`));
  const ackedBefore = await emulatorAcked(url);
  const cpuBefore = await processCpuSeconds(pid);
  const clientBefore = process.cpuUsage();
  const start = performance.now();
  const publishes: Array<Promise<string>> = [];
  for (let i = 0; i < messages; i++) publishes.push(topic.publishMessage({ data: payload }));
  await Promise.all(publishes);
  const published = performance.now();
  await all;
  const end = performance.now();
  // The client acks in batches: wait for the last of them so their cost is in the emulator's figure.
  for (let i = 0; i < 500 && (await emulatorAcked(url)) < ackedBefore + messages; i++) await new Promise((r) => setTimeout(r, 20));
  const cpuAfter = await processCpuSeconds(pid);
  const client = process.cpuUsage(clientBefore);
  await subscription.close();
  return {
    seconds: (end - start) / 1000,
    publishSeconds: (published - start) / 1000,
    emulatorUsPerMessage: cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1e6) / messages,
    clientUsPerMessage: (client.user + client.system) / messages,
    subscription,
  };
}

export async function run(): Promise<void> {
  const messages = intEnv('BENCH_PUBSUB_MESSAGES', 20_000);
  const size = intEnv('BENCH_PUBSUB_SIZE', 100);
  const runs = intEnv('BENCH_PUBSUB_RUNS', 1);
  const idleSeconds = intEnv('BENCH_PUBSUB_IDLE_SECONDS', 5);
  const emulator = await startEmulatorProcess();
  const url = `http://${emulator.host}:${emulator.port}`;
  const saved = process.env.PUBSUB_EMULATOR_HOST;
  process.env.PUBSUB_EMULATOR_HOST = `${emulator.host}:${emulator.port}`;
  const pubsub = new PubSub({ projectId: 'bench-project' });
  try {
    print('== pubsub ==');
    print(`${messages} messages of ${size} bytes, official client: publishMessage (default batching) → on('message') → ack`);
    // Warm-up: JIT and connections, not measured.
    await endToEnd(pubsub, url, emulator.pid, 0, Math.min(2000, messages), size);
    for (let r = 1; r <= runs; r++) {
      const res = await endToEnd(pubsub, url, emulator.pid, r, messages, size);
      const rate = messages / res.seconds;
      print(
        `  run ${r}: ${rate.toFixed(0)} messages/s end to end (${res.seconds.toFixed(2)} s; publishing took ${res.publishSeconds.toFixed(2)} s)`,
      );
      print(
        `    CPU per message, µs: emulator ${res.emulatorUsPerMessage?.toFixed(0) ?? '? (no /proc)'} (publish + deliver + ack), ` +
          `benchmark process (publisher + subscriber clients) ${res.clientUsPerMessage.toFixed(0)}`,
      );
    }
    // Idle with a stream open: the subscriber is listening, nothing is published.
    const listening = pubsub.subscription('bench-sub-1');
    listening.on('message', (m: Message) => m.ack());
    await new Promise((r) => setTimeout(r, 500));
    const idleBefore = await processCpuSeconds(emulator.pid);
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const idleAfter = await processCpuSeconds(emulator.pid);
    await listening.close();
    if (idleBefore !== undefined && idleAfter !== undefined) {
      const percent = ((idleAfter - idleBefore) / idleSeconds) * 100;
      print(`idle CPU with a StreamingPull open, ${idleSeconds} s: ${percent.toFixed(2)} % of one core   target < 1 %: ${percent < 1 ? 'met' : 'NOT met'}`);
    }
  } finally {
    await pubsub.close();
    await emulator.close();
    if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST;
    else process.env.PUBSUB_EMULATOR_HOST = saved;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench/pubsub: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
