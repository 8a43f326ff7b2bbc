/** The Cloud Tasks engine's options for unit tests: a one-minute name window, no queue-name reserve, silent logs. */
import type { EngineOptions } from '../../src/emulator/engine/engine.js';
import { makeLogger } from '../../src/log.js';

/** Options of a test engine; `push` (and anything else) comes from the test. */
export function testEngineOptions(rest: Pick<EngineOptions, 'push'> & Partial<EngineOptions>): EngineOptions {
  return {
    dedupWindowMs: 60_000,
    resetNamesOnPurge: false,
    queueNameReserveMs: 0,
    appEngineHost: 'http://localhost:8080',
    logger: makeLogger({ level: 'silent' }),
    ...rest,
  };
}
