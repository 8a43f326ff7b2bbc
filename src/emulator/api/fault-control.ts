/**
 * The REST control endpoint of the fault rules, so another process (the chaos runner, a test in
 * another language) can switch faults on and off while the emulator runs:
 *
 * - `GET /emulator/faults` — `{ faults: [...], stats: {...} }`
 * - `POST /emulator/faults` — body: one rule (see faults.ts) → 200 with the rule and its `id`
 * - `DELETE /emulator/faults` — clears every rule; `DELETE /emulator/faults/ID` — one rule
 */
import { ConfigError } from '../../errors.js';
import type { Faults } from '../faults.js';

/** Where the endpoint lives. */
export const FAULTS_PATH = '/emulator/faults';

/** An answer to send as JSON. */
export interface ControlAnswer {
  status: number;
  body: unknown;
}

const error = (code: number, status: string, message: string): ControlAnswer => ({ status: code, body: { error: { code, message, status } } });

/** Serves one request to the endpoint; `readBody` reads the request's JSON body (undefined when empty). */
export async function faultControl(faults: Faults, method: string, path: string, readBody: () => Promise<unknown>): Promise<ControlAnswer> {
  const id = path === FAULTS_PATH ? undefined : decodeURIComponent(path.slice(FAULTS_PATH.length + 1));
  // Infinity (a rule without count) is not JSON: say null.
  const listing = (): unknown => faults.list().map((r) => ({ ...r, remaining: Number.isFinite(r.remaining) ? r.remaining : null }));
  if (method === 'GET' && id === undefined) return { status: 200, body: { faults: listing(), stats: faults.stats() } };
  if (method === 'DELETE') {
    const removed = faults.clear(id);
    if (id !== undefined && !removed) return error(404, 'NOT_FOUND', `No fault rule with id '${id}': GET ${FAULTS_PATH} lists them.`);
    return { status: 200, body: { faults: listing() } };
  }
  if (method === 'POST' && id === undefined) {
    try {
      const rule = faults.add((await readBody()) as never);
      return { status: 200, body: { ...rule, remaining: Number.isFinite(rule.remaining) ? rule.remaining : null } };
    } catch (err) {
      const message = err instanceof ConfigError ? err.problems.join('; ') : err instanceof Error ? err.message : String(err);
      return error(400, 'INVALID_ARGUMENT', `Invalid fault rule: ${message}`);
    }
  }
  return error(405, 'METHOD_NOT_ALLOWED', `${method} ${path} is not supported: GET, POST or DELETE ${FAULTS_PATH}, DELETE ${FAULTS_PATH}/ID.`);
}
