/**
 * The process's one Cloud Tasks client. Against Google it uses Application Default Credentials;
 * against an emulator it speaks plaintext gRPC and never looks for Google credentials (no metadata
 * server probe, no ADC file), so it works on a laptop and in tests without any setup.
 */
import { credentials } from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { PassThroughClient } from 'google-auth-library';
import { CodedError, messageOf } from '../errors.js';

/** Options for {@link makeTasksClient}. */
export interface TasksClientOptions {
  /** `host:port` of a Cloud Tasks emulator; undefined means Google's endpoint. */
  emulatorHost?: string;
}

/** Splits `host:port` (IPv6 hosts in brackets) into its parts. */
export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) {
    throw new CodedError('TASKS_EMULATOR_HOST_INVALID', `Cloud Tasks emulator host must be host:port (e.g. localhost:8123), got '${value}'`);
  }
  // grpc-js wants a bare IPv6 address as servicePath; the brackets belong to the address syntax.
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** Whether `value` is a valid emulator `host:port`; when it is not, why goes on `problems` (a CLI reports them all at once). */
export function checkHostPort(value: string, problems: string[]): boolean {
  try {
    parseHostPort(value);
    return true;
  } catch (err) {
    problems.push(messageOf(err));
    return false;
  }
}

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]>;

const shared = new Map<string, CloudTasksClient>();

/**
 * Returns the process-wide Cloud Tasks client for a target (Google, or one emulator address),
 * creating it on first use. Each gRPC client holds a channel and its own auth state, so creating
 * one per request would leak connections and repeat credential lookups.
 */
export function makeTasksClient(options: TasksClientOptions = {}): CloudTasksClient {
  const key = options.emulatorHost ?? 'google';
  let client = shared.get(key);
  if (client === undefined) {
    client = newTasksClient(options.emulatorHost);
    shared.set(key, client);
  }
  return client;
}

/**
 * Creates a new, unshared client for an emulator. Use {@link makeTasksClient} in services; this is
 * for tools that need their own channel (and close it when done).
 */
export function newEmulatorClient(emulatorHost: string): CloudTasksClient {
  const { host, port } = parseHostPort(emulatorHost);
  return new CloudTasksClient({
    servicePath: host,
    apiEndpoint: host,
    port,
    sslCreds: credentials.createInsecure(),
    // gax asks the auth object for the universe domain before connecting; a pass-through client
    // answers without touching ADC or the metadata server.
    // (google-gax bundles its own copy of google-auth-library; the classes are the same shape.)
    authClient: new PassThroughClient() as unknown as NonNullable<ClientOptions['authClient']>,
  });
}

/**
 * Creates a new, unshared client: for the emulator at `emulatorHost`, or Google with Application
 * Default Credentials when undefined. For commands that close their client when done.
 */
export function newTasksClient(emulatorHost?: string): CloudTasksClient {
  return emulatorHost === undefined ? new CloudTasksClient() : newEmulatorClient(emulatorHost);
}

/** Closes every shared client (at process shutdown, and between tests). */
export async function closeTasksClients(): Promise<void> {
  const clients = [...shared.values()];
  shared.clear();
  await Promise.all(clients.map((c) => c.close()));
}
