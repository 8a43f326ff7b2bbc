import { describe, expect, it } from 'vitest';
import { decodeTaskBody, hexDump } from '../../../src/emulator/dashboard/decode-body.js';
import { encodeRequest } from '../../../src/local/wire.js';

const request = { sourceFile: 'gs://b/f.pdf', webhookUrl: 'http://hook.test/n', context: { id: 'j1' } };

describe('decodeTaskBody', () => {
  it('reads a binary SvcWorkRequest with the executor codec and shows its fields as JSON', () => {
    const v = decodeTaskBody(encodeRequest(request, 'binary'));
    expect(v.format).toBe('proto-binary');
    expect(JSON.parse(v.text)).toEqual(request);
    expect(v.executorError).toBeUndefined();
  });

  it('reads the proto3 JSON form and the JSON envelope as the executor does', () => {
    expect(decodeTaskBody(encodeRequest(request, 'json')).format).toBe('proto-json');
    const env = decodeTaskBody(encodeRequest(request, 'envelope'));
    expect(env.format).toBe('envelope');
    expect(JSON.parse(env.text)).toMatchObject({ payload: { sourceFile: 'gs://b/f.pdf' }, id: 'j1' });
  });

  it("reads Firebase's {data} and other JSON, saying why the executor would reject them", () => {
    const fb = decodeTaskBody(Buffer.from('{"data":{"x":1}}'));
    expect(fb.format).toBe('firebase');
    expect(fb.text).toBe('{\n  "data": {\n    "x": 1\n  }\n}');
    expect(fb.executorError).toBeUndefined(); // the executor's fourth format
    const json = decodeTaskBody(Buffer.from('[1,2]'));
    expect(json).toMatchObject({ format: 'json', text: '[\n  1,\n  2\n]' });
  });

  it('shows printable text as text and anything else as a hex dump', () => {
    expect(decodeTaskBody(Buffer.from('hello <b>'))).toMatchObject({ format: 'text', text: 'hello <b>' });
    const bin = decodeTaskBody(Buffer.from([0xff, 0x00, 0x41]));
    expect(bin.format).toBe('hex');
    expect(bin.text).toBe(`00000000  ${'ff 00 41'.padEnd(47)}  |..A|`);
    expect(bin.executorError).toMatch(/not a binary SvcWorkRequest/);
    expect(decodeTaskBody(undefined)).toMatchObject({ format: 'empty', bytes: 0 });
  });

  it('cuts a long hex dump and says how much is left', () => {
    const dump = hexDump(Buffer.alloc(5000, 0xfe));
    expect(dump.split('\n')).toHaveLength(257);
    expect(dump.endsWith('… 904 more bytes')).toBe(true);
  });
});
