import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import type { Logger } from '../../log.js';
import type { Engine } from '../engine/engine.js';
import { DROPPED, underCreateTaskFault, type Faults } from '../faults.js';
import type { TaskRecord, TaskView } from '../model.js';
import { parseView, policyFromWire, policyToWire, queueFromGrpc, queueToGrpc, taskFromGrpc, taskToGrpc, type GrpcQueue, type GrpcTask } from './convert.js';
import { CLOUD_TASKS_SERVICE, loadCloudTasksDefinition, loadTaskType } from './protos.js';
import { STATUS, toApiError } from '../status.js';
import { grpcStatusDetails } from './error-details.js';

type Req = Record<string, unknown>;
type Handler = (req: Req) => unknown;

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * The CloudTasks RPCs, each a synchronous call into the engine returning the response message.
 * `encodeTask`, when given, turns the Task answers of CreateTask, GetTask and RunTask into their
 * wire bytes right away (see makeGrpcServer); without it they are plain message objects.
 */
export function cloudTasksHandlers(engine: Engine, encodeTask?: (t: TaskRecord, view: TaskView) => Buffer): Record<string, Handler> {
  const task = encodeTask ?? ((t: TaskRecord, view: TaskView) => taskToGrpc(t, view));
  return {
    ListQueues: (r) => {
      const page = engine.listQueues(str(r.parent), num(r.pageSize), str(r.pageToken) || undefined, str(r.filter) || undefined);
      return { queues: page.items.map(queueToGrpc), nextPageToken: page.nextPageToken };
    },
    GetQueue: (r) => queueToGrpc(engine.getQueue(str(r.name))),
    CreateQueue: (r) => queueToGrpc(engine.createQueue(str(r.parent), queueFromGrpc(r.queue as GrpcQueue))),
    UpdateQueue: (r) => {
      const mask = (r.updateMask as { paths?: string[] } | undefined)?.paths;
      return queueToGrpc(engine.updateQueue(queueFromGrpc(r.queue as GrpcQueue), mask));
    },
    DeleteQueue: (r) => {
      engine.deleteQueue(str(r.name));
      return {};
    },
    PurgeQueue: (r) => queueToGrpc(engine.purgeQueue(str(r.name))),
    PauseQueue: (r) => queueToGrpc(engine.pauseQueue(str(r.name))),
    ResumeQueue: (r) => queueToGrpc(engine.resumeQueue(str(r.name))),
    // IAM policies are stored per queue, not enforced: every permission is granted.
    GetIamPolicy: (r) => policyToWire(engine.getIamPolicy(str(r.resource)), false),
    SetIamPolicy: (r) => policyToWire(engine.setIamPolicy(str(r.resource), policyFromWire(r.policy)), false),
    TestIamPermissions: (r) => ({ permissions: engine.testIamPermissions(str(r.resource), Array.isArray(r.permissions) ? r.permissions.map(String) : []) }),
    ListTasks: (r) => {
      const view = parseView(r.responseView);
      const page = engine.listTasks(str(r.parent), num(r.pageSize), str(r.pageToken) || undefined);
      return { tasks: page.items.map((t) => taskToGrpc(t, view)), nextPageToken: page.nextPageToken };
    },
    GetTask: (r) => task(engine.getTask(str(r.name)), parseView(r.responseView)),
    CreateTask: (r) => task(engine.createTask(str(r.parent), taskFromGrpc(r.task as GrpcTask)), parseView(r.responseView)),
    DeleteTask: (r) => {
      engine.deleteTask(str(r.name));
      return {};
    },
    RunTask: (r) => task(engine.runTask(str(r.name)), parseView(r.responseView)),
  };
}

/** Encodes a Task answer to its wire bytes with protobufjs directly (the same bytes proto-loader's serializer makes). */
export function makeTaskEncoder(): (t: TaskRecord, view: TaskView) => Buffer {
  const taskType = loadTaskType();
  return (t, view) => taskType.encode(taskToGrpc(t, view, true)).finish() as Buffer;
}

/** Fault injection for CreateTask: the rules, and how to destroy a caller's connection by its peer address. */
export interface GrpcFaultHook {
  faults: Faults;
  dropPeer: (peer: string) => void;
}

/** A grpc-js Server serving google.cloud.tasks.v2.CloudTasks from the engine (not bound to a port). */
export function makeGrpcServer(engine: Engine, logger: Logger, hook?: GrpcFaultHook): grpc.Server {
  const definition = loadCloudTasksDefinition();
  const loaded = definition[CLOUD_TASKS_SERVICE] as grpc.ServiceDefinition;
  // CreateTask is the hot path: its answer is encoded straight from a plain object with numeric
  // enums, skipping proto-loader's fromObject copy. Serializers pass such bytes through.
  const encodeTask = makeTaskEncoder();
  const service: grpc.ServiceDefinition = Object.fromEntries(
    Object.entries(loaded).map(([method, def]) => {
      const serialize = def.responseSerialize;
      return [method, { ...def, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : serialize(value)) }];
    }),
  );
  const handlers = cloudTasksHandlers(engine, encodeTask);
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(service)) {
    const handler = handlers[method];
    impl[method] = (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (handler === undefined) {
        callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented by the emulator.` });
        return;
      }
      try {
        const req = call.request ?? {};
        const answer = method === 'CreateTask' && hook !== undefined
          ? underCreateTaskFault(hook.faults, str(req.parent), () => handler(req), () => hook.dropPeer(call.getPeer()))
          : handler(req);
        if (answer !== DROPPED) callback(null, answer);
      } catch (err) {
        const e = toApiError(err);
        if (e.status === 'INTERNAL') logger.error({ err, method }, 'gRPC handler failed');
        else logger.debug({ method, status: e.status, reason: e.message }, 'gRPC request rejected');
        const bin = grpcStatusDetails(e);
        if (bin === undefined) {
          callback({ code: STATUS[e.status].grpc, details: e.message });
        } else {
          const metadata = new grpc.Metadata();
          metadata.set('grpc-status-details-bin', bin);
          callback({ code: STATUS[e.status].grpc, details: e.message, metadata });
        }
      }
    };
  }
  // Large tasks are up to 1 MB of body plus headers; allow headroom above grpc-js' 4 MB default.
  // Channelz bookkeeping costs CPU on every call and nobody inspects it here.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  server.addService(service, impl);
  // gRPC server reflection (an emulator extra: production does not offer it), so grpcurl and the
  // like can list and call the API without proto files.
  new ReflectionService(definition, { services: [CLOUD_TASKS_SERVICE] }).addToServer(server);
  return server;
}
