import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { parseSimulateArgs } from '../../src/simulate/cli.js';

describe('executor simulate flags', () => {
  it('takes one scenario file, --json and --svg FILE', () => {
    expect(parseSimulateArgs(['examples/storm.yaml', '--json', '--svg', 'out.svg'])).toEqual({ scenario: 'examples/storm.yaml', json: true, svg: 'out.svg', help: false });
    expect(parseSimulateArgs(['--help'])).toMatchObject({ help: true });
  });

  it('asks for a scenario file and rejects unknown flags, saying what to do', () => {
    expect(() => parseSimulateArgs([])).toThrow(/a scenario file is required, e\.g\. executor simulate examples\/storm\.yaml/);
    expect(() => parseSimulateArgs(['a.yaml', 'b.yaml'])).toThrow(/expected one scenario file, got 2/);
    try {
      parseSimulateArgs(['a.yaml', '--fast']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe('SIMULATE_ARGS_INVALID');
      expect((err as ConfigError).message).toMatch(/--fast.*see 'executor simulate --help'/s);
    }
  });
});
