/**
 * An ApiError's google.rpc details on the two wires: a google.rpc.Status in the
 * `grpc-status-details-bin` trailer for gRPC (what google-gax decodes into `statusDetails`,
 * `reason` and `domain`), and `error.details` with `@type` for REST, as Google's front end writes them.
 */
import protobuf from 'protobufjs';
import { STATUS, type ApiError, type ErrorDetail } from '../status.js';

// The few messages of google/rpc/status.proto and error_details.proto the emulator sends.
const RPC_PROTOS = {
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            DebugInfo: { fields: { stack_entries: { rule: 'repeated', type: 'string', id: 1 }, detail: { type: 'string', id: 2 } } },
            Help: {
              fields: { links: { rule: 'repeated', type: 'Link', id: 1 } },
              nested: { Link: { fields: { description: { type: 'string', id: 1 }, url: { type: 'string', id: 2 } } } },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
            LocalizedMessage: { fields: { locale: { type: 'string', id: 1 }, message: { type: 'string', id: 2 } } },
          },
        },
      },
    },
  },
};
const root = protobuf.Root.fromJSON(RPC_PROTOS);
const StatusType = root.lookupType('google.rpc.Status');

const typeUrl = (d: ErrorDetail): string => `type.googleapis.com/google.rpc.${d.type}`;

/** The detail's fields (everything but the discriminant). */
function fieldsOf(d: ErrorDetail): Record<string, unknown> {
  const { type: _type, ...fields } = d;
  return fields;
}

/** The `grpc-status-details-bin` value for an error, or undefined when it has no details. */
export function grpcStatusDetails(e: ApiError): Buffer | undefined {
  if (e.details.length === 0) return undefined;
  const details = e.details.map((d) => ({
    type_url: typeUrl(d),
    value: root.lookupType(`google.rpc.${d.type}`).encode(fieldsOf(d)).finish(),
  }));
  return Buffer.from(StatusType.encode({ code: STATUS[e.status].grpc, message: e.message, details }).finish());
}

/** The `error.details` array of Google's REST error JSON. */
export function restErrorDetails(e: ApiError): Array<Record<string, unknown>> {
  return e.details.map((d) => ({ '@type': typeUrl(d), ...fieldsOf(d) }));
}
