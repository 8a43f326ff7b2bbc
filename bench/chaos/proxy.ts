/**
 * A TCP proxy on loopback between the tiers and the emulator's gRPC port, so a chaos scenario can
 * cut the tiers' path to Cloud Tasks the way a network partition does: while cut, open connections
 * are destroyed and new ones are accepted but never forwarded (their calls hang until their
 * deadline, like packets dropped on the floor). Restoring forwards new connections again.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

/** A running proxy. */
export interface Proxy {
  /** `127.0.0.1:port`: what the tiers use as CLOUD_TASKS_EMULATOR_HOST. */
  readonly address: string;
  /** Whether the path is cut now. */
  readonly isCut: boolean;
  /** Cuts the path: destroys every open connection, black-holes new ones. */
  cut(): void;
  /** Restores the path; black-holed connections are destroyed so their callers reconnect. */
  restore(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `target` (`host:port`) on a random loopback port. */
export async function startProxy(target: { host: string; port: number }): Promise<Proxy> {
  const pairs = new Set<Socket>();
  const held = new Set<Socket>();
  let isCut = false;
  const server = createServer((client) => {
    client.on('error', () => client.destroy());
    if (isCut) {
      held.add(client);
      client.once('close', () => held.delete(client));
      client.resume(); // read and drop whatever the caller sends
      return;
    }
    const upstream = createConnection({ host: target.host, port: target.port });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    pairs.add(client);
    client.once('close', () => pairs.delete(client));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    get isCut() {
      return isCut;
    },
    cut() {
      isCut = true;
      for (const s of pairs) s.destroy();
    },
    restore() {
      isCut = false;
      for (const s of held) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of [...pairs, ...held]) s.destroy();
        server.close(() => resolve());
      }),
  };
}
