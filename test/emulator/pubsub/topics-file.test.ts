// Topics and subscriptions declared in the queues file exist when the emulator starts, and a bad
// declaration fails the start with every problem named (nothing listens then).
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../../src/emulator/index.js';
import { loadPubSubDeclarations } from '../../../src/emulator/pubsub/topics-file.js';

const FILE = `
project: file-project
queues:
  - name: incoming
topics:
  - name: outcomes
    labels: { team: core }
    subscriptions:
      - name: outcomes-pull
        ackDeadlineSeconds: 30
        enableMessageOrdering: true
        retryPolicy: { minimumBackoff: 1s, maximumBackoff: 1m }
        deadLetterPolicy: { deadLetterTopic: outcomes-dead, maxDeliveryAttempts: 7 }
      - name: outcomes-push
        pushConfig:
          pushEndpoint: http://127.0.0.1:9/push
          oidcToken: { serviceAccountEmail: pusher@file-project.iam.gserviceaccount.com }
          noWrapper: { writeMetadata: true }
  - name: outcomes-dead
`;

describe('topics in the queues file', () => {
  it('creates the declared topics and subscriptions at startup, with their policies', async () => {
    const emulator = await startEmulator({ port: 0, queues: { text: FILE } as never });
    try {
      const res = await fetch(`${emulator.url}/v1/projects/file-project/subscriptions/outcomes-pull`);
      expect(await res.json()).toMatchObject({
        topic: 'projects/file-project/topics/outcomes',
        ackDeadlineSeconds: 30,
        enableMessageOrdering: true,
        retryPolicy: { minimumBackoff: '1s', maximumBackoff: '60s' },
        deadLetterPolicy: { deadLetterTopic: 'projects/file-project/topics/outcomes-dead', maxDeliveryAttempts: 7 },
      });
      const push = (await (await fetch(`${emulator.url}/v1/projects/file-project/subscriptions/outcomes-push`)).json()) as Record<string, unknown>;
      expect(push.pushConfig).toMatchObject({ pushEndpoint: 'http://127.0.0.1:9/push', noWrapper: { writeMetadata: true } });
      const topics = (await (await fetch(`${emulator.url}/v1/projects/file-project/topics`)).json()) as { topics: Array<{ name: string }> };
      expect(topics.topics.map((t) => t.name)).toEqual(['projects/file-project/topics/outcomes', 'projects/file-project/topics/outcomes-dead']);
      expect((await fetch(`${emulator.url}/v2/projects/file-project/locations/us-central1/queues/incoming`)).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it('reports every bad declaration at once, naming the topic, subscription and field', () => {
    const bad = `
topics:
  - name: ok-topic
    subscriptions:
      - name: s1
        ackDeadlineSeconds: 5
      - name: good-sub
        deadLetterPolicy: { deadLetterTopic: undeclared, maxDeliveryAttempts: 200 }
      - name: push-sub
        pushConfig: { pushEndpoint: 'ftp://x' }
        surprise: 1
`;
    let problems: string[] = [];
    try {
      loadPubSubDeclarations({ text: bad });
    } catch (err) {
      problems = (err as { problems: string[] }).problems;
    }
    expect(problems).toContain('topics[0] (ok-topic).subscriptions[0] (s1).ackDeadlineSeconds: must be at least 10');
    expect(problems.join('\n')).toMatch(/maxDeliveryAttempts: must be at most 100/);
    expect(problems.join('\n')).toMatch(/pushEndpoint: must be an http\(s\) URL/);
    expect(problems.join('\n')).toMatch(/unknown field\(s\) 'surprise'/);
  });

  it('refuses a dead-letter topic that the file does not declare, and ids production refuses', () => {
    const run = (text: string): string => {
      try {
        loadPubSubDeclarations({ text });
        return '';
      } catch (err) {
        return (err as { problems: string[] }).problems.join('\n');
      }
    };
    expect(run('topics: [{ name: t-one, subscriptions: [{ name: s-one, deadLetterPolicy: { deadLetterTopic: t-two } }] }]')).toMatch(/t-two is not declared/);
    expect(run('topics: [{ name: ab }]')).toMatch(/'ab' is not a valid id/);
    expect(run('topics: [{ name: t-one }, { name: t-one }]')).toMatch(/defined twice/);
    expect(run(`topics: [{ name: t-one, subscriptions: [{ name: s-one, filter: 'attributes.a == "x"' }] }]`)).toMatch(/s-one\)\.filter: Invalid filter/);
  });
});
