import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../../../log.js';
import { invalidArgument, STATUS, toApiError, type ApiError } from '../../status.js';
import type { PubSubEngine, StreamHandle } from '../engine.js';
import { receivedTo } from './convert.js';
import { pubsubHandlers, type Req } from './handlers.js';
import { loadPubSubDefinition, PUBLISHER_SERVICE, SUBSCRIBER_SERVICE } from './protos.js';

const grpcError = (e: ApiError): Partial<grpc.StatusObject> => ({ code: STATUS[e.status].grpc, details: e.message });

function logRejection(logger: Logger, err: unknown, method: string): ApiError {
  const e = toApiError(err);
  if (e.status === 'INTERNAL') logger.error({ err, method }, 'Pub/Sub gRPC handler failed');
  else logger.debug({ method, status: e.status, reason: e.message }, 'Pub/Sub gRPC request rejected');
  return e;
}

/** Adds google.pubsub.v1.Publisher and Subscriber, served from the engine, to a grpc-js server. */
export function addPubSubServices(server: grpc.Server, engine: PubSubEngine, logger: Logger): void {
  const definition = loadPubSubDefinition();
  const handlers = pubsubHandlers(engine, 'grpc');
  for (const serviceName of [PUBLISHER_SERVICE, SUBSCRIBER_SERVICE]) {
    const service = definition[serviceName] as grpc.ServiceDefinition;
    const impl: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(service)) {
      if (method === 'StreamingPull') {
        impl[method] = (call: grpc.ServerDuplexStream<Req, unknown>) => streamingPull(engine, logger, call);
        continue;
      }
      const handler = handlers[method];
      impl[method] = (call: grpc.ServerUnaryCall<Req, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (handler === undefined) {
          callback({ code: grpc.status.UNIMPLEMENTED, details: `${method} is not implemented by the emulator.` });
          return;
        }
        const abort = new AbortController();
        call.once('cancelled', () => abort.abort());
        try {
          Promise.resolve(handler(call.request ?? {}, abort.signal)).then(
            (result) => callback(null, result),
            (err: unknown) => callback(grpcError(logRejection(logger, err, method))),
          );
        } catch (err) {
          callback(grpcError(logRejection(logger, err, method)));
        }
      };
    }
    server.addService(service, impl);
  }
}

/**
 * StreamingPull: the first request names the subscription and the stream's ack deadline and flow
 * control; later ones carry acks, deadline changes and keep-alives. Messages flow back as the
 * engine hands them over. A bad request ends the stream with INVALID_ARGUMENT, as production does.
 */
function streamingPull(engine: PubSubEngine, logger: Logger, call: grpc.ServerDuplexStream<Req, unknown>): void {
  let handle: StreamHandle | undefined;
  let ended = false;
  let subscription = '';
  const finish = (e?: ApiError): void => {
    if (ended) return;
    ended = true;
    handle?.close();
    if (e === undefined) call.end();
    else call.emit('error', grpcError(e));
  };
  call.on('data', (r: Req) => {
    if (ended) return;
    try {
      if (handle === undefined) {
        subscription = typeof r.subscription === 'string' ? r.subscription : '';
        if (subscription === '') throw invalidArgument('The first StreamingPullRequest must set subscription.');
        const sub = engine.getSubscription(subscription);
        const props = { messageOrderingEnabled: sub.enableMessageOrdering, exactlyOnceDeliveryEnabled: sub.enableExactlyOnceDelivery };
        handle = engine.openStream(
          subscription,
          {
            ackDeadlineSeconds: Number(r.streamAckDeadlineSeconds ?? 0),
            maxOutstandingMessages: Number(r.maxOutstandingMessages ?? 0),
            maxOutstandingBytes: Number(r.maxOutstandingBytes ?? 0),
          },
          (deliveries) => {
            if (ended) return;
            call.write({ receivedMessages: deliveries.map((d) => receivedTo(d, 'grpc')), subscriptionProperties: props });
          },
          (e) => finish(e),
        );
      } else {
        if (typeof r.subscription === 'string' && r.subscription !== '' && r.subscription !== subscription) {
          throw invalidArgument('subscription may only be set in the first StreamingPullRequest of a stream.');
        }
        const deadline = Number(r.streamAckDeadlineSeconds ?? 0);
        if (deadline !== 0) handle.setAckDeadline(deadline);
      }
      const acks = (r.ackIds as string[] | undefined) ?? [];
      if (acks.length > 0) handle.ack(acks);
      const modIds = (r.modifyDeadlineAckIds as string[] | undefined) ?? [];
      const modSecs = ((r.modifyDeadlineSeconds as number[] | undefined) ?? []).map(Number);
      if (modIds.length > 0 || modSecs.length > 0) handle.modifyAckDeadline(modIds, modSecs);
    } catch (err) {
      finish(logRejection(logger, err, 'StreamingPull'));
    }
  });
  call.on('end', () => finish());
  call.on('cancelled', () => {
    ended = true;
    handle?.close();
  });
  call.on('error', () => {
    ended = true;
    handle?.close();
  });
}
