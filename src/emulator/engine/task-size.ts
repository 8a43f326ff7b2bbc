/**
 * A task's size as production measures it: the serialized size of the stored task (the FULL view
 * after defaults are applied: name, schedule and create times, dispatch deadline, the request with
 * its stored headers), not of the request that created it. Probed against real Cloud Tasks on
 * 2026-08-23 and reconstructed byte for byte (aertje/cloud-tasks-emulator,
 * internal/engine/tasksize.go): a task is refused above 1,048,569 bytes (1 MiB − 7).
 * Every field number involved is below 16, so each field key is one byte.
 */
import type { TaskRecord } from '../model.js';

/** Bytes of `v` as a protobuf varint. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** A length-delimited field (string, bytes, message) of `n` bytes under a one-byte key. */
const lenField = (n: number): number => 1 + varintSize(n) + n;

/** A string field, left out when empty (proto3). */
const stringField = (s: string | undefined): number => (s === undefined || s === '' ? 0 : lenField(Buffer.byteLength(s)));

/** A google.protobuf.Timestamp or Duration field from milliseconds (zero parts left out). */
function secondsNanosField(ms: number): number {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return lenField((seconds !== 0 ? 1 + varintSize(seconds) : 0) + (nanos !== 0 ? 1 + varintSize(nanos) : 0));
}

/** A map<string, string> field: one entry message per header. */
function headersField(headers: Record<string, string>): number {
  let size = 0;
  for (const k in headers) size += lenField(stringField(k) + stringField(headers[k]));
  return size;
}

/** The serialized size of the task as stored. */
export function storedTaskSize(t: TaskRecord): number {
  let size = stringField(t.name) + secondsNanosField(t.scheduleTimeMs) + secondsNanosField(t.createTimeMs) + secondsNanosField(t.dispatchDeadlineMs);
  const h = t.http;
  // The method enum is always stored, and every value is a one-byte varint after its key.
  let request = 2 + headersField(h.headers) + (h.body !== undefined && h.body.length > 0 ? lenField(h.body.length) : 0);
  if (t.appEngine !== undefined) {
    // The routing is stored as its host alone (the probe: a service weighed len(service) + 1). The
    // probe found the deadline counted only when the caller set one; it is always counted here.
    request += lenField(stringField(t.appEngine.host)) + stringField(t.appEngine.relativeUri);
    return size + lenField(request);
  }
  request += stringField(h.url);
  if (h.auth?.kind === 'oidc') request += lenField(stringField(h.auth.serviceAccountEmail) + stringField(h.auth.audience));
  else if (h.auth?.kind === 'oauth') request += lenField(stringField(h.auth.serviceAccountEmail) + stringField(h.auth.scope));
  size += lenField(request);
  return size;
}

/** The combined size of a request's headers, names and values (the proto's 80 KB limit). */
export function headersSize(headers: Record<string, string>): number {
  let size = 0;
  for (const k in headers) size += Buffer.byteLength(k) + Buffer.byteLength(headers[k]!);
  return size;
}
