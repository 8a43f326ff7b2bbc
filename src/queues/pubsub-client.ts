/**
 * The process's Pub/Sub clients: the generated v1 Publisher (one Publish call per outcome, no
 * batching, so "published" means the server said so) and Subscriber (reading a subscription for the
 * startup check). Against an emulator they speak plaintext gRPC without looking for Google
 * credentials, like the Cloud Tasks client (tasks-client.ts).
 */
import { credentials } from '@grpc/grpc-js';
import { v1 } from '@google-cloud/pubsub';
import { PassThroughClient } from 'google-auth-library';
import { parseHostPort } from './tasks-client.js';

type ClientOptions = NonNullable<ConstructorParameters<typeof v1.PublisherClient>[0]>;

function emulatorOptions(emulatorHost: string | undefined): ClientOptions {
  if (emulatorHost === undefined) return {};
  const { host, port } = parseHostPort(emulatorHost);
  return {
    servicePath: host,
    apiEndpoint: host,
    port,
    sslCreds: credentials.createInsecure(),
    authClient: new PassThroughClient(),
  };
}

const publishers = new Map<string, v1.PublisherClient>();
const subscribers = new Map<string, v1.SubscriberClient>();

/** The shared Publisher client for Google (`undefined`) or one emulator address. */
export function makePublisherClient(emulatorHost?: string): v1.PublisherClient {
  const key = emulatorHost ?? 'google';
  let client = publishers.get(key);
  if (client === undefined) publishers.set(key, (client = new v1.PublisherClient(emulatorOptions(emulatorHost))));
  return client;
}

/** The shared Subscriber client for Google (`undefined`) or one emulator address. */
export function makeSubscriberClient(emulatorHost?: string): v1.SubscriberClient {
  const key = emulatorHost ?? 'google';
  let client = subscribers.get(key);
  if (client === undefined) subscribers.set(key, (client = new v1.SubscriberClient(emulatorOptions(emulatorHost))));
  return client;
}

/** Closes every shared Pub/Sub client (at process shutdown, and between tests). */
export async function closePubSubClients(): Promise<void> {
  const clients = [...publishers.values(), ...subscribers.values()];
  publishers.clear();
  subscribers.clear();
  await Promise.all(clients.map((c) => c.close()));
}
