import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { decodeBody, encodeNotification, MAX_JSON_DEPTH, MAX_RESULT_BYTES, UndecodableBodyError, type DecodedBody } from '../../src/executor/codecs.js';

const root = protobuf.loadSync(fileURLToPath(new URL('../../proto/work.proto', import.meta.url)));
const Request = root.lookupType('morais_protos.SvcWorkRequest');
const Response = root.lookupType('morais_protos.SvcWorkResponse');
const binary = (fields: Record<string, unknown>) => Buffer.from(Request.encode(Request.fromObject(fields)).finish());

const FULL = {
  sourceFile: 'gs://bucket/file.pdf',
  webhookUrl: 'https://client.example.test/hook',
  fileMetadata: { mimetype: 'application/pdf', md5: 'abc', size: 123456789012 },
  context: { id: 'job-42' },
};
const FULL_PAYLOAD = { ...FULL, fileMetadata: { ...FULL.fileMetadata, size: '123456789012' } };

function undecodable(body: Buffer | string): string {
  try {
    decodeBody(Buffer.isBuffer(body) ? body : Buffer.from(body));
  } catch (err) {
    expect(err).toBeInstanceOf(UndecodableBodyError);
    expect((err as UndecodableBodyError).code).toBe('BODY_UNDECODABLE');
    return (err as Error).message;
  }
  throw new Error('expected the body to be undecodable');
}

describe('decodeBody: binary SvcWorkRequest', () => {
  it('decodes every field, int64 as a string (proto3 JSON)', () => {
    const d = decodeBody(binary(FULL));
    expect(d).toEqual({
      job: { format: 'proto-binary', payload: FULL_PAYLOAD, webhookUrl: FULL.webhookUrl },
      context: { id: 'job-42' },
    });
  });

  it('decodes a request with only sourceFile', () => {
    expect(decodeBody(binary({ sourceFile: 'invalid' }))).toEqual({ job: { format: 'proto-binary', payload: { sourceFile: 'invalid' } } });
  });

  it('rejects a request without sourceFile', () => {
    expect(undecodable(binary({ webhookUrl: 'https://x.test/' }))).toContain('no sourceFile');
  });

  it('rejects unknown fields, wrong wire types, truncation and invalid UTF-8', () => {
    const valid = binary({ sourceFile: 'f' });
    expect(undecodable(Buffer.concat([valid, Buffer.from([0x28, 0x01])]))).toContain('no field 5');
    expect(undecodable(Buffer.from([0x08, 0x01]))).toContain('wire type 0');
    expect(undecodable(Buffer.from([0x0a, 0x05, 0x61]))).toContain('truncated');
    expect(undecodable(Buffer.from([0x0a, 0x02, 0xc3, 0x28]))).toContain('UTF-8');
    // Nested messages are checked too: Context has only field 3.
    expect(undecodable(Buffer.concat([valid, Buffer.from([0x22, 0x02, 0x08, 0x01])]))).toContain('Context has no field 1');
  });

  it('rejects a webhookUrl that is not http(s)', () => {
    expect(undecodable(binary({ sourceFile: 'f', webhookUrl: 'ftp://x' }))).toContain('webhookUrl');
  });

  it.each([0, 1, 127, 128, 482_113, 2 ** 48 - 1, 2 ** 49, '9223372036854775807', '-1', '-9223372036854775808'])(
    'renders int64 size %s exactly as protobufjs toObject({ longs: String }) does',
    (size) => {
      const body = binary({ sourceFile: 'f', fileMetadata: { size } });
      const reference = Request.toObject(Request.decode(body), { longs: String, defaults: false }) as { fileMetadata: unknown };
      expect((decodeBody(body).job.payload as { fileMetadata: unknown }).fileMetadata).toEqual(reference.fileMetadata);
    },
  );

  it('decodes a binary body whose strings are not ASCII, and a body that starts with "{" but is not UTF-8 JSON', () => {
    expect((decodeBody(binary({ sourceFile: 'gs://b/relatório-ü.pdf' })).job.payload as { sourceFile: string }).sourceFile).toBe('gs://b/relatório-ü.pdf');
    // 0x7b is "{" but also the tag of field 15 with wire type 3: neither JSON nor a SvcWorkRequest.
    expect(undecodable(Buffer.from([0x7b, 0xff, 0xfe]))).toContain('no field 15');
  });
});

describe('decodeBody: proto3 JSON SvcWorkRequest', () => {
  it('decodes the JSON mapping to the same payload as the binary form', () => {
    const d = decodeBody(Buffer.from(JSON.stringify(FULL)));
    expect(d.job).toEqual({ format: 'proto-json', payload: FULL_PAYLOAD, webhookUrl: FULL.webhookUrl });
    expect(d.context).toEqual({ id: 'job-42' });
  });

  it('accepts int64 as a string, null fields and leading whitespace', () => {
    const d = decodeBody(Buffer.from(`  \n{"sourceFile":"a","fileMetadata":{"size":"5"},"context":null}`));
    expect(d.job.payload).toEqual({ sourceFile: 'a', fileMetadata: { size: '5' } });
  });

  it('rejects unknown or mistyped fields, naming the schema\'s fields and counting (never quoting) unknown ones', () => {
    const unknown = undecodable('{"sourceFile":"a","colour-sk-secret":"red"}');
    expect(unknown).toContain('1 unknown field(s)');
    expect(unknown).not.toContain('colour');
    expect(undecodable('{"sourceFile":7}')).toContain('sourceFile');
    expect(undecodable('{"sourceFile":"a","fileMetadata":{"size":"big"}}')).toContain('fileMetadata.size');
  });
});

describe('decodeBody: JSON envelope', () => {
  it('decodes payload, webhook, context and id', () => {
    const d = decodeBody(Buffer.from(JSON.stringify({ id: 'j', payload: [1, 2], webhookUrl: 'http://127.0.0.1:9/x', context: { a: 1 } })));
    expect(d).toEqual({ job: { format: 'envelope', payload: [1, 2], webhookUrl: 'http://127.0.0.1:9/x' }, context: { a: 1 }, id: 'j' });
  });

  it('accepts any JSON payload, including null and strings', () => {
    expect(decodeBody(Buffer.from('{"payload":null}')).job.payload).toBeNull();
    expect(decodeBody(Buffer.from('\ufeff{"payload":"text"}')).job.payload).toBe('text');
  });

  it('rejects unknown keys and a bad webhook', () => {
    expect(undecodable('{"payload":1,"webhook":"x"}')).toContain('Invalid JSON envelope');
    expect(undecodable('{"payload":1,"webhookUrl":"not a url"}')).toContain('webhookUrl');
  });
});

describe('decodeBody: garbage', () => {
  it.each([
    ['empty', ''],
    ['plain text', 'hello world'],
    ['broken JSON', '{"payload": '],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"x"'],
    ['HTML', '<html></html>'],
    ['a form', 'a=1&b=2'],
  ])('rejects %s', (_name, body) => {
    undecodable(body);
  });

  it('rejects random bytes (thousands of samples, none mistaken for a request)', () => {
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      try {
        decodeBody(randomBytes(1 + (i % 200)));
        accepted += 1;
      } catch (err) {
        expect(err).toBeInstanceOf(UndecodableBodyError);
      }
    }
    expect(accepted).toBe(0);
  });

  it('never quotes the body in its error message', () => {
    expect(undecodable('{"payload": "sk-secret" oops')).not.toContain('sk-secret');
  });

  it.each([
    ['a bad token', '{sk-secret}'],
    ['a truncated short body', '{"sk-secret":tru}'],
    ['an unterminated string', '{"payload":"sk-secret'],
    ['a control character', '{"payload":"sk-secret\t"}'],
    ['a bad escape', '{"payload":"sk-secret\\q"}'],
  ])('says what is wrong with unparsable JSON (%s) by kind and position, without quoting it', (_name, body) => {
    const message = undecodable(body);
    expect(message).toMatch(/^Body looks like JSON but does not parse: (unexpected|unescaped|invalid)/);
    expect(message).not.toContain('sk-secret');
    expect(message).not.toContain('"');
  });

  it('refuses JSON nested deeper than the limit before parsing it, and accepts moderate nesting', () => {
    const deep = `{"payload":1,"context":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(undecodable(deep)).toContain(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    // Brackets inside strings (escaped quotes included) are not nesting.
    const inString = `{"payload":"\\"${'['.repeat(5000)}"}`;
    expect(decodeBody(Buffer.from(inString)).job.payload).toBe(`"${'['.repeat(5000)}`);
    const moderate = `{"payload":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
    expect(decodeBody(Buffer.from(moderate)).job.format).toBe('envelope');
  });

  it('refuses int64 values outside the int64 range instead of wrapping them, and unsafe JSON numbers', () => {
    expect(undecodable('{"sourceFile":"a","fileMetadata":{"size":"9999999999999999999"}}')).toContain('fileMetadata.size');
    expect(undecodable('{"sourceFile":"a","fileMetadata":{"size":"-9223372036854775809"}}')).toContain('int64 range');
    expect(undecodable('{"sourceFile":"a","fileMetadata":{"size":18446744073709551615}}')).toContain('fileMetadata.size');
    expect(decodeBody(Buffer.from('{"sourceFile":"a","fileMetadata":{"size":"9223372036854775807"}}')).job.payload).toEqual({
      sourceFile: 'a',
      fileMetadata: { size: '9223372036854775807' },
    });
    expect(decodeBody(Buffer.from('{"sourceFile":"a","fileMetadata":{"size":"-9223372036854775808"}}')).job.payload).toMatchObject({
      fileMetadata: { size: '-9223372036854775808' },
    });
  });
});

describe('encodeNotification', () => {
  const facts = {
    tier: 2,
    path: [
      { queue: 'incoming', attempts: 3 },
      { queue: 'incoming-2', attempts: 1 },
    ],
    task: { queue: 'incoming-2', name: 't' },
    completedAt: new Date('2026-01-01T00:00:00Z'),
  };

  it('answers a binary job with a binary SvcWorkResponse: context echoed, error on failure', () => {
    const decoded = decodeBody(binary(FULL));
    const ok = encodeNotification(decoded, { ...facts, outcome: 'succeeded' });
    expect(ok.contentType).toBe('application/x-protobuf');
    expect(Response.toObject(Response.decode(ok.body))).toEqual({ context: { id: 'job-42' } });
    const bad = encodeNotification(decoded, { ...facts, outcome: 'failed', error: { type: 'Error', message: 'invalid source file' } });
    expect(Response.toObject(Response.decode(bad.body))).toEqual({ context: { id: 'job-42' }, error: { type: 'Error', message: 'invalid source file' } });
  });

  it('answers a proto3 JSON job with the JSON mapping of SvcWorkResponse', () => {
    const decoded = decodeBody(Buffer.from(JSON.stringify(FULL)));
    const n = encodeNotification(decoded, { ...facts, outcome: 'failed', error: { type: 'T', message: 'm' } });
    expect(n.contentType).toBe('application/json');
    expect(JSON.parse(n.body.toString())).toEqual({ context: { id: 'job-42' }, error: { type: 'T', message: 'm' } });
  });

  it('answers an envelope job with the documented JSON notification', () => {
    const decoded: DecodedBody = { job: { format: 'envelope', payload: 1 }, context: 'c', id: 'i' };
    const n = encodeNotification(decoded, { ...facts, outcome: 'succeeded', result: { pages: 3 }, scheduledAt: new Date('2025-12-31T23:59:00Z') });
    expect(JSON.parse(n.body.toString())).toEqual({
      id: 'i',
      context: 'c',
      outcome: 'succeeded',
      result: { pages: 3 },
      tier: 2,
      attempts: 4,
      path: [
        { tier: 1, queue: 'incoming', attempts: 3 },
        { tier: 2, queue: 'incoming-2', attempts: 1 },
      ],
      task: { queue: 'incoming-2', name: 't' },
      timestamps: { scheduledAt: '2025-12-31T23:59:00.000Z', completedAt: '2026-01-01T00:00:00.000Z' },
    });
  });

  it('leaves out a result too large for a task, saying so', () => {
    const decoded: DecodedBody = { job: { format: 'envelope', payload: 1 } };
    const n = JSON.parse(encodeNotification(decoded, { ...facts, outcome: 'succeeded', result: 'x'.repeat(MAX_RESULT_BYTES + 1) }).body.toString());
    expect(n.result).toBeUndefined();
    expect(n.resultOmitted).toContain('larger than');
  });
});
