import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log.js';
import type { Engine } from '../engine/engine.js';
import { DROPPED, underCreateTaskFault, type Faults } from '../faults.js';
import { FAULTS_PATH, faultControl } from './fault-control.js';
import type { OidcSigner } from '../oidc.js';
import { parseView, policyFromWire, policyToWire, queueFromJson, queueToJson, taskFromJson, taskToJson, type JsonStyle } from './convert.js';
import { invalidArgument, notFound, STATUS, toApiError, type ApiError } from '../status.js';
import { restErrorDetails } from './error-details.js';

/** What the REST handler needs besides the engine. */
export interface RestContext {
  engine: Engine;
  signer: OidcSigner;
  logger: Logger;
  /** Extra read-only endpoints for humans and scripts (stats, dropped tasks). */
  inspect: () => Record<string, unknown>;
  /** The web dashboard: answers the requests that are its own (true) before the API sees them. */
  ui?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean;
  /** Fault rules applied to CreateTask and served at `/emulator/faults`; absent: none. */
  faults?: Faults;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
/**
 * Deepest nesting of objects and arrays a body may have. Google's JSON front end refuses deeper
 * bodies (protobuf's own recursion limit is 100); the limit also keeps the recursive key
 * conversion and schema checks far from the call stack's end, so no body can make a 500.
 */
export const MAX_JSON_DEPTH = 100;

/** How deeply `text` nests objects and arrays, counted without recursion (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

interface Route {
  method: string;
  parent: string;
  queue?: string;
  task?: string;
  kind: 'queues' | 'queue' | 'tasks' | 'task';
  verb?: string;
}

/** Matches projects/P/locations/L/queues[/Q[/tasks[/T]]][:verb]. */
function route(method: string, fullPath: string): Route | undefined {
  let path = fullPath;
  let verb: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon > path.lastIndexOf('/')) {
    verb = path.slice(colon + 1);
    path = path.slice(0, colon);
  }
  const s = path.split('/');
  if (s.length < 5 || s.length > 8 || s.some((x) => x === '') || s[0] !== 'projects' || s[2] !== 'locations' || s[4] !== 'queues') {
    return undefined;
  }
  const parent = s.slice(0, 4).join('/');
  const base = verb === undefined ? { method, parent } : { method, parent, verb };
  if (s.length === 5) return { ...base, kind: 'queues' };
  const queue = s.slice(0, 6).join('/');
  if (s.length === 6) return { ...base, kind: 'queue', queue };
  if (s[6] !== 'tasks') return undefined;
  if (s.length === 7) return { ...base, kind: 'tasks', queue };
  return { ...base, kind: 'task', queue, task: path };
}

/**
 * The REST/JSON face of the v2 API, shaped exactly as the official client's REST transport
 * (google-gax fallback) sends requests: `/v2/…` paths, `:verb` suffixes, query parameters for GET
 * and for the update mask, proto3 JSON bodies. The same paths without `/v2` serve firebase-admin.
 * Errors come back as Google's error JSON.
 */
export function makeRestHandler(ctx: RestContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((err: unknown) => {
      ctx.logger.error({ err }, 'REST handler failed');
      if (!res.headersSent) sendError(res, toApiError(err));
      else res.destroy();
    });
  };
}

/**
 * The request line split without a URL object: the path (percent-decoded only when it holds an
 * escape) and the query string. `new URL()` per request cost more than the rest of the routing.
 */
function splitTarget(target: string): { rawPath: string; query: string } {
  const q = target.indexOf('?');
  return q < 0 ? { rawPath: target, query: '' } : { rawPath: target.slice(0, q), query: target.slice(q + 1) };
}

/** The path of a request line as `new URL()` would give it (an absolute-form target loses its origin). */
function pathOf(rawPath: string): string {
  // Dot segments and backslashes are what URL parsing rewrites; any other path is already its own pathname.
  if (rawPath.startsWith('/') && !rawPath.includes('/.') && !rawPath.includes('\\')) return rawPath;
  if (rawPath === '' || rawPath === '*') return '/';
  try {
    return new URL(rawPath, 'http://emulator').pathname;
  } catch {
    return '/';
  }
}

/** Query parameters, parsed only when there are any (most API calls have none). */
const NO_QUERY = new URLSearchParams();

async function handle(ctx: RestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const { rawPath, query } = splitTarget(req.url ?? '/');
  const encodedPath = pathOf(rawPath);
  let path = encodedPath;
  if (encodedPath.includes('%')) {
    try {
      path = decodeURIComponent(encodedPath);
    } catch {
      sendError(res, invalidArgument(`Malformed URL path '${encodedPath}'.`));
      return;
    }
  }

  if (ctx.ui?.(req, res, path) === true) return;
  if (method === 'GET' || method === 'HEAD') {
    if (path === '/.well-known/openid-configuration') return sendJson(res, 200, ctx.signer.openidConfiguration());
    if (path === '/.well-known/jwks.json') return sendJson(res, 200, ctx.signer.jwks());
    if (path === '/' || path === '/healthz') return sendJson(res, 200, { status: 'ok', service: 'cloud-tasks-emulator' });
    if (path === '/emulator/stats') return sendJson(res, 200, ctx.inspect());
  }
  if (ctx.faults !== undefined && (path === FAULTS_PATH || path.startsWith(`${FAULTS_PATH}/`))) {
    const answer = await faultControl(ctx.faults, method, path, () => readJson(req));
    return sendJson(res, answer.status, answer.body);
  }

  const resourcePath = path.startsWith('/v2/') ? path.slice(4) : path.slice(1);
  const r = route(method, resourcePath);
  if (r === undefined) {
    sendError(res, notFound(`No API method matches ${method} ${path}. Paths look like /v2/projects/P/locations/L/queues/Q/tasks.`));
    return;
  }
  let body: unknown;
  try {
    body = await readJson(req);
  } catch (err) {
    sendError(res, toApiError(err));
    return;
  }
  const q = query === '' ? NO_QUERY : new URLSearchParams(query);
  const style: JsonStyle = { numericEnums: /enum-encoding=int/.test(q.get('$alt') ?? '') };
  const param = (camel: string, snake: string): string | undefined => q.get(camel) ?? q.get(snake) ?? undefined;
  const intParam = (camel: string, snake: string): number | undefined => {
    const v = param(camel, snake);
    if (v === undefined || v === '') return undefined;
    if (!/^-?\d+$/.test(v)) throw invalidArgument(`Invalid value for ${snake}: '${v}' is not an integer.`);
    return Number(v);
  };
  const obj = (body ?? {}) as Record<string, unknown>;

  try {
    const route = (): unknown => dispatchRoute(ctx.engine, r, obj, style, param, intParam);
    const result = r.kind === 'tasks' && method === 'POST' && ctx.faults !== undefined
      ? underCreateTaskFault(ctx.faults, r.queue!, route, () => req.socket.destroy())
      : route();
    if (result !== DROPPED) sendJson(res, 200, result);
  } catch (err) {
    const e = toApiError(err);
    if (e.status === 'INTERNAL') ctx.logger.error({ err, method, path }, 'REST request failed');
    else ctx.logger.debug({ method, path, status: e.status, reason: e.message }, 'REST request rejected');
    sendError(res, e);
  }
}

/** Carries out one REST route. (One switch over every Cloud Tasks method: each case is a few lines.) */
function dispatchRoute(
  engine: Engine,
  r: Route,
  body: Record<string, unknown>,
  style: JsonStyle,
  param: (camel: string, snake: string) => string | undefined,
  intParam: (camel: string, snake: string) => number | undefined,
): unknown {
  const view = (): ReturnType<typeof parseView> => parseView(body.responseView ?? body.response_view ?? param('responseView', 'response_view'));
  const m = r.method;
  const notAllowed = (): ApiError => notFound(`No API method for ${m} on this resource.`);
  switch (r.kind) {
    case 'queues':
      if (r.verb !== undefined) throw notAllowed();
      if (m === 'GET') {
        const page = engine.listQueues(r.parent, intParam('pageSize', 'page_size'), param('pageToken', 'page_token') || undefined, param('filter', 'filter'));
        return withToken({ queues: page.items.map((x) => queueToJson(x, style)) }, page.nextPageToken);
      }
      if (m === 'POST') return queueToJson(engine.createQueue(r.parent, queueFromJson(body)), style);
      throw notAllowed();
    case 'queue': {
      const name = r.queue!;
      if (r.verb === undefined) {
        if (m === 'GET') return queueToJson(engine.getQueue(name), style);
        if (m === 'DELETE') {
          engine.deleteQueue(name);
          return {};
        }
        if (m === 'PATCH') {
          // The client moves queue.name into the path; the body holds the rest of the queue.
          const input = queueFromJson(body);
          input.name = name;
          const mask = param('updateMask', 'update_mask');
          return queueToJson(engine.updateQueue(input, mask ? mask.split(',') : undefined), style);
        }
        throw notAllowed();
      }
      if (m !== 'POST') throw notAllowed();
      switch (r.verb) {
        case 'purge':
          return queueToJson(engine.purgeQueue(name), style);
        case 'pause':
          return queueToJson(engine.pauseQueue(name), style);
        case 'resume':
          return queueToJson(engine.resumeQueue(name), style);
        case 'getIamPolicy':
          return policyToWire(engine.getIamPolicy(name), true);
        case 'setIamPolicy':
          return policyToWire(engine.setIamPolicy(name, policyFromWire(body.policy)), true);
        case 'testIamPermissions': {
          const permissions = Array.isArray(body.permissions) ? body.permissions.map(String) : [];
          const granted = engine.testIamPermissions(name, permissions);
          return granted.length > 0 ? { permissions: granted } : {};
        }
        default:
          throw notFound(`Unknown method :${r.verb} on a queue.`);
      }
    }
    case 'tasks': {
      if (r.verb !== undefined) throw notFound(`Unknown method :${r.verb} on a task collection.`);
      if (m === 'GET') {
        const v = view();
        const page = engine.listTasks(r.queue!, intParam('pageSize', 'page_size'), param('pageToken', 'page_token') || undefined);
        return withToken({ tasks: page.items.map((t) => taskToJson(t, v, style)) }, page.nextPageToken);
      }
      if (m === 'POST') {
        const v = view();
        return taskToJson(engine.createTask(r.queue!, taskFromJson(body.task)), v, style);
      }
      throw notAllowed();
    }
    case 'task': {
      const name = r.task!;
      if (r.verb === undefined) {
        if (m === 'GET') return taskToJson(engine.getTask(name), view(), style);
        if (m === 'DELETE') {
          engine.deleteTask(name);
          return {};
        }
        throw notAllowed();
      }
      if (r.verb === 'run' && m === 'POST') return taskToJson(engine.runTask(name), view(), style);
      throw notFound(`Unknown method :${r.verb} on a task.`);
    }
  }
}

function withToken<T extends Record<string, unknown>>(out: T, token: string): T {
  return token ? { ...out, nextPageToken: token } : out;
}

/**
 * Reads a JSON object body (undefined when empty); INVALID_ARGUMENT when it is malformed or too
 * large. Plain 'data'/'end' listeners: an async iterator over the request cost several stream
 * objects and promises per request, the most of any one step of a CreateTask.
 */
export function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        // The rest is read and dropped, so the answer can still go out on this connection.
        reject(invalidArgument(`Request body larger than ${MAX_BODY_BYTES} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (tooLarge) return;
      try {
        resolve(parseJsonBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.once('error', (err: Error) => reject(err));
  });
}

/** A request body as a JSON object (undefined when empty); INVALID_ARGUMENT when it is malformed. */
function parseJsonBody(bytes: Buffer): unknown {
  const text = bytes.toString('utf8').trim();
  // The official client's REST transport sends "" as the body of GET and DELETE requests.
  if (text === '' || text === '""' || text === 'null') return undefined;
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw invalidArgument(`Invalid JSON payload received. The body nests objects or arrays deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw invalidArgument(`Invalid JSON payload received. ${(err as Error).message}`);
  }
  if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed))) {
    throw invalidArgument('Invalid JSON payload received. The request body must be a JSON object.');
  }
  return parsed;
}

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Google's REST error body: `{"error":{"code":404,"message":"…","status":"NOT_FOUND","details":[…]}}`. */
export function sendError(res: ServerResponse, e: ApiError): void {
  const http = STATUS[e.status].http;
  const details = restErrorDetails(e);
  const error = details.length > 0 ? { code: http, message: e.message, status: e.status, details } : { code: http, message: e.message, status: e.status };
  sendJson(res, http, { error });
}
