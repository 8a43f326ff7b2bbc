/**
 * The original wire format, work.proto, in one place for the executor and the local stack: its
 * protobufjs types (loaded once), and a strict walk of the binary form that accepts only the fields
 * and wire types a message defines — protobuf decoders skip unknown fields, so without it almost any
 * bytes would "decode".
 */
import { isUtf8 } from 'node:buffer';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_PATH = fileURLToPath(new URL('../../proto/work.proto', import.meta.url));

/** SvcWorkRequest and SvcWorkResponse, loaded on first use. */
let types: { request: protobuf.Type; response: protobuf.Type } | undefined;
export function workProtoTypes(): { request: protobuf.Type; response: protobuf.Type } {
  if (types === undefined) {
    const root = protobuf.loadSync(PROTO_PATH);
    types = { request: root.lookupType('morais_protos.SvcWorkRequest'), response: root.lookupType('morais_protos.SvcWorkResponse') };
  }
  return types;
}

/** How one field is read: a UTF-8 string, an int64 varint, or a nested message. */
export type FieldSpec = 'string' | 'varint' | MessageSpec;
/** The fields a message may carry, by number. */
export interface MessageSpec {
  name: string;
  fields: Record<number, { name: string; spec: FieldSpec }>;
}
const CONTEXT: MessageSpec = { name: 'Context', fields: { 3: { name: 'id', spec: 'string' } } };
const FILE_METADATA: MessageSpec = {
  name: 'FileMetadata',
  fields: { 1: { name: 'mimetype', spec: 'string' }, 2: { name: 'md5', spec: 'string' }, 3: { name: 'size', spec: 'varint' } },
};
/** SvcWorkRequest (a push body): 1 sourceFile, 2 webhookUrl, 3 FileMetadata, 4 Context. */
export const WORK_REQUEST: MessageSpec = {
  name: 'SvcWorkRequest',
  fields: {
    1: { name: 'sourceFile', spec: 'string' },
    2: { name: 'webhookUrl', spec: 'string' },
    3: { name: 'fileMetadata', spec: FILE_METADATA },
    4: { name: 'context', spec: CONTEXT },
  },
};

/**
 * Walks protobuf wire format, accepting only what `spec` defines, and builds the message as
 * protobufjs' `toObject(decode(bytes), { longs: String, defaults: false })` would: fields present on
 * the wire, the last occurrence winning, int64 as a decimal string. Doing both in one pass spares
 * the push path a second decode and an intermediate message object. Throws a reason otherwise.
 */
function readWire(buf: Buffer, reader: protobuf.Reader, end: number, spec: MessageSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    const def = spec.fields[field];
    if (def === undefined) throw new Error(`${spec.name} has no field ${field}`);
    const expected = def.spec === 'varint' ? 0 : 2;
    if (wireType !== expected) throw new Error(`${spec.name}.${def.name} has wire type ${wireType}, expected ${expected}`);
    if (def.spec === 'varint') {
      out[def.name] = readInt64String(buf, reader, end);
    } else if (def.spec === 'string') {
      const length = reader.uint32();
      const start = reader.pos;
      if (start + length > end) throw new RangeError('index out of range');
      // isUtf8 validates without decoding (the old fatal TextDecoder threw per binary body).
      if (!isUtf8(buf.subarray(start, start + length))) throw new Error(`${spec.name}.${def.name} is not valid UTF-8`);
      out[def.name] = buf.toString('utf8', start, start + length);
      reader.pos = start + length;
    } else {
      const length = reader.uint32();
      const start = reader.pos;
      if (start + length > end) throw new RangeError('index out of range');
      out[def.name] = readWire(buf, reader, start + length, def.spec);
    }
  }
  if (reader.pos > end) throw new RangeError('index out of range');
  return out;
}

/**
 * Reads an int64 varint as protobufjs' `toObject({ longs: String })` renders it. Values below 2^49
 * (any file size) are summed as plain numbers; longer varints (huge or negative) go through
 * protobufjs' Long path.
 */
function readInt64String(buf: Buffer, reader: protobuf.Reader, end: number): string {
  const start = reader.pos;
  let value = 0;
  let scale = 1;
  for (let i = start; i < start + 7 && i < end; i++) {
    const byte = buf[i]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      reader.pos = i + 1;
      return String(value);
    }
    scale *= 128;
  }
  const long = reader.int64();
  // protobufjs types its Long loosely; at run time it is the `long` package's, whose toString is decimal.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return typeof long === 'number' ? String(long) : long.toString();
}

/** SvcWorkResponse (a notification): 2 Context, 3 Error. */
export const WORK_RESPONSE: MessageSpec = {
  name: 'SvcWorkResponse',
  fields: {
    2: { name: 'context', spec: CONTEXT },
    3: { name: 'error', spec: { name: 'Error', fields: { 1: { name: 'type', spec: 'string' }, 2: { name: 'message', spec: 'string' } } } },
  },
};

/** Walks a whole binary message against `spec`; throws a reason (a RangeError when truncated). */
export function readMessage(buf: Buffer, spec: MessageSpec): Record<string, unknown> {
  return readWire(buf, protobuf.Reader.create(buf), buf.length, spec);
}
