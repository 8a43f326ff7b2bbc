import * as grpc from '@grpc/grpc-js';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

/** The HTTP/2 connection preface starts with these bytes; gRPC clients always send it first. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0');

/**
 * How long a new connection may take to show which protocol it speaks. Real clients send their
 * first bytes (a whole HTTP/2 preface, or a request line) in the write that follows the connect,
 * so this only ever ends connections that send nothing, or stop inside the preface, and would
 * otherwise stay open forever. Once a connection is classified the protocol's own timeouts apply.
 */
export const SNIFF_TIMEOUT_MS = 10_000;

/** A listening port that serves gRPC and REST together. */
export interface DualServer {
  readonly port: number;
  /** Destroys the connection whose remote end is `peer` ('address:port', as grpc-js' getPeer says). */
  dropPeer(peer: string): void;
  close(): Promise<void>;
}

/**
 * One TCP port for both APIs: the first bytes of each connection decide. The HTTP/2 preface goes
 * to the grpc-js server through a connection injector; anything else is HTTP/1.1 for the REST
 * handler. Clients then need a single CLOUD_TASKS_EMULATOR_HOST whatever their transport.
 */
export async function listenDual(options: {
  host: string;
  port: number;
  grpcServer: grpc.Server;
  rest: (req: IncomingMessage, res: ServerResponse) => void;
  /** Overrides {@link SNIFF_TIMEOUT_MS} (tests). */
  sniffTimeoutMs?: number;
}): Promise<DualServer> {
  const sniffTimeoutMs = options.sniffTimeoutMs ?? SNIFF_TIMEOUT_MS;
  const injector = options.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const http = createHttpServer({ keepAliveTimeout: 65_000 }, options.rest);
  const sockets = new Set<Socket>();

  // noDelay: gRPC and REST answers are small writes; Nagle's algorithm would hold them back.
  const net = createNetServer({ noDelay: true, keepAlive: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let seen: Buffer = Buffer.alloc(0);
    const sniffTimer = setTimeout(() => socket.destroy(), sniffTimeoutMs);
    sniffTimer.unref();
    socket.once('close', () => clearTimeout(sniffTimer));
    const onData = (chunk: Buffer): void => {
      seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const isH2Prefix = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      // Wait for more bytes only while the data could still be the start of the preface.
      if (isH2Prefix && n < H2_PREFACE.length) return;
      clearTimeout(sniffTimer);
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isH2Prefix) {
        // Node's HTTP/2 session reads the bytes already buffered on the socket when it takes the
        // socket over; resuming here would hand them to nobody.
        injector.injectConnection(socket);
      } else {
        http.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });

  await new Promise<void>((resolve, reject) => {
    net.once('error', reject);
    net.listen(options.port, options.host, () => {
      net.off('error', reject);
      resolve();
    });
  });
  const port = (net.address() as AddressInfo).port;

  return {
    port,
    dropPeer: (peer) => {
      for (const s of sockets) if (`${s.remoteAddress}:${s.remotePort}` === peer) s.destroy();
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => net.close(() => resolve()));
      injector.drain(0);
      injector.destroy();
      options.grpcServer.forceShutdown();
      http.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
