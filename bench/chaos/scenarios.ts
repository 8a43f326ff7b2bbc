/**
 * The chaos scenarios: what each does to the chain while a batch runs through it. Durations have a
 * full form (`npm run chaos`) and a short one (the vitest run in `npm test`).
 */
import type { Chain } from './chain.js';

/** What a scenario's hooks can use. */
export interface ScenarioContext {
  readonly chain: Chain;
  /** The short form (fewer jobs, shorter faults). */
  readonly short: boolean;
  /** Resolves once `fraction` of the batch is submitted. */
  untilSubmitted(fraction: number): Promise<void>;
  /** Says what the scenario is doing (for the progress output). */
  note(message: string): void;
}

/** One scenario. */
export interface Scenario {
  readonly name: string;
  /** One line: the fault. */
  readonly summary: string;
  /** Before the batch is submitted (faults active from the start). */
  before?(ctx: ScenarioContext): Promise<void>;
  /** While the batch is submitted and runs; resolves when the fault is over. */
  during?(ctx: ScenarioContext): Promise<void>;
  /** After each job's task is created (its full name). */
  onCreated?(ctx: ScenarioContext, task: string): void;
  /** Undoes everything, whatever happened (also runs after a failure). */
  after?(ctx: ScenarioContext): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ctx: ScenarioContext, full: number, short: number): number => (ctx.short ? short : full) * 1000;

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'kill',
    summary: 'SIGKILL tier 1 mid-load and restart it 2 s later, then the same to tier 2',
    async during(ctx) {
      await ctx.untilSubmitted(0.3);
      for (const tier of ctx.chain.tiers) {
        ctx.note(`SIGKILL tier ${tier.tier}`);
        await tier.kill();
        await sleep(2000);
        await tier.start();
        ctx.note(`tier ${tier.tier} restarted`);
        await sleep(1000);
      }
    },
  },
  {
    name: 'cut',
    summary: "the tiers' path to the emulator's gRPC cut at a TCP proxy (25 s; short: 5 s)",
    async during(ctx) {
      await ctx.untilSubmitted(0.3);
      ctx.note('cutting the tiers off Cloud Tasks');
      ctx.chain.proxy.cut();
      await sleep(seconds(ctx, 25, 5));
      ctx.chain.proxy.restore();
      ctx.note('path restored');
    },
    async after(ctx) {
      ctx.chain.proxy.restore();
    },
  },
  {
    name: 'outage',
    summary: 'the notifier queue missing (CreateTask answers "Queue does not exist") for 30 s; short: 5 s',
    async during(ctx) {
      await ctx.untilSubmitted(0.3);
      ctx.note('notifier queue gone');
      await ctx.chain.addFault({ kind: 'fail-create', code: 'FAILED_PRECONDITION', message: 'Queue does not exist.', queue: 'notifier' });
      await sleep(seconds(ctx, 30, 5));
      await ctx.chain.clearFaults();
      ctx.note('notifier queue back');
    },
    async after(ctx) {
      await ctx.chain.clearFaults();
    },
  },
  {
    name: 'duplicate',
    summary: 'every push delivered twice at once, with the same headers',
    async before(ctx) {
      await ctx.chain.addFault({ kind: 'duplicate-dispatch' });
    },
    async after(ctx) {
      await ctx.chain.clearFaults();
    },
  },
  {
    name: 'runtask',
    summary: 'RunTask ×3 at once on every task just created',
    onCreated(ctx, task) {
      for (let i = 0; i < 3; i++) void ctx.chain.client.runTask({ name: task }).catch(() => undefined);
    },
  },
  {
    name: 'flap',
    summary: 'the webhook answers 500 to half the notifications',
    async before(ctx) {
      ctx.chain.flap = 0.5;
    },
    async after(ctx) {
      ctx.chain.flap = 0;
    },
  },
  {
    name: 'ambiguous',
    summary: 'CreateTask creates the task, then fails: UNAVAILABLE to notifier, a dropped connection to incoming-2',
    async before(ctx) {
      await ctx.chain.addFault({ kind: 'fail-create', phase: 'after', code: 'UNAVAILABLE', queue: 'notifier' });
      await ctx.chain.addFault({ kind: 'drop-create', phase: 'after', queue: 'incoming-2' });
    },
    async after(ctx) {
      await ctx.chain.clearFaults();
    },
  },
];

/** The names, for `--scenario` validation. */
export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((s) => s.name);
