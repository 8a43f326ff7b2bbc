/**
 * A child process for test/signals.test.ts: waits for a stop signal, then either stops at once
 * with exit code 3 (`quick`) or never finishes stopping (`stuck`), printing each step.
 */
import { untilStopSignal } from '../../src/signals.js';

const mode = process.argv[2];
const { stopped, done } = untilStopSignal();
process.stdout.write('ready\n');
// Keeps the child alive until it is told to stop.
const alive = setInterval(() => {}, 1000);
void stopped.then((signal) => {
  process.stdout.write(`stopping on ${signal}\n`);
  if (mode === 'quick') {
    clearInterval(alive);
    process.exitCode = 3;
    done();
  }
});
