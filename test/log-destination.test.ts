/**
 * The default log destination (src/log-destination.ts): a turn's lines in one write, in order,
 * bounded, and never lost when the process exits.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { makeTurnBatched, stdoutDestination } from '../src/log-destination.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function recorder() {
  const writes: string[] = [];
  return { writes, sink: { write: (text: string) => writes.push(text) } };
}

describe('makeTurnBatched', () => {
  it('writes the lines of one event-loop turn once the turn ends, in one write, in their order', async () => {
    const { writes, sink } = recorder();
    const out = makeTurnBatched(sink);
    out.write('a\n');
    out.write('b\n');
    out.write('c\n');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n']);
    out.write('d\n');
    await nextTurn();
    expect(writes).toEqual(['a\nb\nc\n', 'd\n']);
  });

  it('writes at once when a turn has piled up the limit, so one burst does not grow without bound', async () => {
    const { writes, sink } = recorder();
    const out = makeTurnBatched(sink, 10);
    out.write('12345\n');
    out.write('67890\n');
    expect(writes).toEqual(['12345\n67890\n']);
    out.write('x\n');
    await nextTurn();
    expect(writes).toEqual(['12345\n67890\n', 'x\n']);
  });

  it('flush writes what is pending now and calls back; an empty flush writes nothing', async () => {
    const { writes, sink } = recorder();
    const out = makeTurnBatched(sink);
    out.write('a\n');
    let called = 0;
    out.flush(() => (called += 1));
    expect(writes).toEqual(['a\n']);
    expect(called).toBe(1);
    out.flush();
    await nextTurn();
    expect(writes).toEqual(['a\n']);
  });

  it("hands a failing sink's error to flush's callback", () => {
    const out = makeTurnBatched({
      write: () => {
        throw new Error('EBADF');
      },
    });
    out.write('a\n');
    let error: Error | undefined;
    out.flush((err) => (error = err));
    expect(error?.message).toBe('EBADF');
  });
});

describe('stdoutDestination', () => {
  it('is one batcher per descriptor or file, so loggers sharing stdout keep their lines in order', () => {
    expect(stdoutDestination('/dev/null')).toBe(stdoutDestination('/dev/null'));
  });

  // The lines a dying process writes last are the ones that say why it died.
  it.each([
    ['exits through process.exit in the same turn', "logger.error({ code: 'X' }, 'last words'); process.exit(3);", 3],
    ['dies of an uncaught exception', "logger.error({ code: 'X' }, 'last words'); throw new Error('boom');", 1],
    ['ends normally', "logger.error({ code: 'X' }, 'last words');", 0],
  ])('writes every line to stdout when the process %s', (_name, body, status) => {
    const script = `import { makeLogger } from './src/log.ts'; const logger = makeLogger(); logger.info('first'); ${body}`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(child.status).toBe(status);
    const lines = child.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.message)).toEqual(['first', 'last words']);
    expect(lines[1]).toMatchObject({ severity: 'ERROR', code: 'X' });
  });
});
