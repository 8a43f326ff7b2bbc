/**
 * A small gRPC server speaking the Cloud Tasks v2 protocol (CreateTask, GetQueue) on 127.0.0.1, for
 * tests that drive the real CloudTasksClient. It stores created tasks, answers ALREADY_EXISTS for a
 * name seen before, and can be told to fail the next calls (e.g. UNAVAILABLE) to test handoff errors.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
const TASKS_PROTOS = dirname(require.resolve('@google-cloud/tasks/build/protos'));
// google-gax (a dependency of @google-cloud/tasks) carries the google/api, rpc and iam protos.
const GAX_PROTOS = join(dirname(createRequire(require.resolve('@google-cloud/tasks')).resolve('google-gax')), '..', 'protos');

/** An HTTP request as stored (proto-loader's plain object form). */
export interface StoredHttpRequest {
  url: string;
  httpMethod: string;
  headers: Record<string, string>;
  body: Buffer;
  oidcToken?: { serviceAccountEmail: string; audience: string } | null;
}

/** A task as the fake stored it. */
export interface StoredTask {
  name: string;
  queue: string;
  httpRequest: StoredHttpRequest;
}

/** A running fake and its controls. */
export interface FakeCloudTasks {
  /** `127.0.0.1:port`, for CLOUD_TASKS_EMULATOR_HOST. */
  host: string;
  /** Every task created, in order. */
  tasks: StoredTask[];
  /** Number of CreateTask calls, including refused ones. */
  createCalls: number;
  /** Makes the next `count` CreateTask calls fail with `code` (default UNAVAILABLE). */
  failNext(count: number, code?: grpc.status): void;
  /** Queues GetQueue knows; any other name answers NOT_FOUND. */
  queues: Map<string, Record<string, unknown>>;
  /** Forgets every task, name, call count and pending failure (between tests). */
  reset(): void;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts a fake Cloud Tasks server on a random loopback port. */
export async function startFakeCloudTasks(): Promise<FakeCloudTasks> {
  const definition = protoLoader.loadSync(join(TASKS_PROTOS, 'google/cloud/tasks/v2/cloudtasks.proto'), {
    includeDirs: [TASKS_PROTOS, GAX_PROTOS],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    google: { cloud: { tasks: { v2: { CloudTasks: grpc.ServiceClientConstructor } } } };
  };
  const service = loaded.google.cloud.tasks.v2.CloudTasks.service;

  let failures: { count: number; code: grpc.status } = { count: 0, code: grpc.status.UNAVAILABLE };
  const names = new Set<string>();
  const fake: FakeCloudTasks = {
    host: '',
    tasks: [],
    createCalls: 0,
    queues: new Map(),
    failNext(count, code = grpc.status.UNAVAILABLE) {
      failures = { count, code };
    },
    reset() {
      fake.tasks.length = 0;
      fake.createCalls = 0;
      names.clear();
      failures = { count: 0, code: grpc.status.UNAVAILABLE };
    },
    close: async () => {},
  };

  const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: 'not implemented by the fake' });
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(service)) handlers[method] = unimplemented;

  handlers.CreateTask = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    fake.createCalls += 1;
    if (failures.count > 0) {
      failures.count -= 1;
      callback({ code: failures.code, details: 'injected failure' });
      return;
    }
    const req = call.request as { parent: string; task: { name: string; httpRequest: StoredHttpRequest } };
    const name = req.task.name !== '' ? req.task.name : `${req.parent}/tasks/${Math.random().toString(36).slice(2)}${fake.tasks.length}`;
    if (!name.startsWith(`${req.parent}/tasks/`)) {
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `task name ${name} is not in queue ${req.parent}` });
      return;
    }
    if (names.has(name)) {
      callback({ code: grpc.status.ALREADY_EXISTS, details: 'Requested entity already exists' });
      return;
    }
    names.add(name);
    const stored: StoredTask = { name, queue: req.parent, httpRequest: req.task.httpRequest };
    fake.tasks.push(stored);
    callback(null, { name, httpRequest: req.task.httpRequest, dispatchCount: 0, responseCount: 0 });
  };

  handlers.GetQueue = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const name = (call.request as { name: string }).name;
    const queue = fake.queues.get(name);
    if (queue === undefined) callback({ code: grpc.status.NOT_FOUND, details: `Queue ${name} does not exist` });
    else callback(null, { name, ...queue });
  };

  const server = new grpc.Server();
  server.addService(service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  fake.host = `127.0.0.1:${port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.tryShutdown(() => resolve());
      // Clients with open streams would hold tryShutdown forever; force it after a moment.
      setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 500).unref();
    });
  return fake;
}
