/**
 * Seeded pseudo-random numbers for the simulator (the same seed gives the same run) and the work
 * latency distributions of a scenario.
 */
import type { LatencyModel } from './scenario.js';

/** A uniform generator on [0, 1): mulberry32, small and fast, good enough for traffic models. */
export function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** z of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/** Draws work latencies (ms) from a scenario's model. */
export function sampler(model: LatencyModel, random: () => number): () => number {
  switch (model.kind) {
    case 'fixed':
      return () => model.ms;
    case 'exponential':
      return () => -Math.log(1 - random()) * model.meanMs;
    case 'lognormal': {
      const mu = Math.log(model.medianMs);
      const sigma = Math.log(model.p99Ms / model.medianMs) / Z99;
      // Box–Muller: one standard normal per draw (the second is dropped to keep the stream simple).
      return () => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
    }
  }
}
