import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../log.js';
import { readJson, sendError, sendJson } from '../../api/rest.js';
import { notFound, toApiError } from '../../status.js';
import type { PubSubEngine } from '../engine.js';
import { pubsubHandlers, type Req } from './handlers.js';

/** A REST call resolved to its RPC and request message. */
interface Routed {
  method: string;
  request: Req;
}

const PREFIX = /^\/v1\/projects\/[^/]+\/(topics|subscriptions)(\/|$|:)/;

/** True for paths of the Pub/Sub v1 REST API (the rest of the port belongs to Cloud Tasks). */
export const isPubSubPath = (path: string): boolean => PREFIX.test(path);

/**
 * Maps a v1 REST call (the paths of pubsub.proto's http annotations) to its RPC: `body` is the
 * JSON body, `q` the query string (GET list calls carry pageSize/pageToken there).
 */
export function routePubSub(httpMethod: string, path: string, body: Req, q: URLSearchParams): Routed | undefined {
  let p = path.replace(/^\/v1\//, '');
  let verb: string | undefined;
  const colon = p.lastIndexOf(':');
  if (colon > p.lastIndexOf('/')) {
    verb = p.slice(colon + 1);
    p = p.slice(0, colon);
  }
  const s = p.split('/');
  if (s[0] !== 'projects' || s.some((x) => x === '')) return undefined;
  const project = s.slice(0, 2).join('/');
  const paging = (): Req => {
    const r: Req = {};
    const size = q.get('pageSize') ?? q.get('page_size');
    const token = q.get('pageToken') ?? q.get('page_token');
    if (size !== null) r.pageSize = size;
    if (token !== null) r.pageToken = token;
    return r;
  };
  const m = httpMethod;
  if (s.length === 3 && verb === undefined && m === 'GET') {
    return s[2] === 'topics' ? { method: 'ListTopics', request: { project, ...paging() } } : { method: 'ListSubscriptions', request: { project, ...paging() } };
  }
  if (s.length === 5 && s[2] === 'topics' && verb === undefined && m === 'GET') {
    const topic = s.slice(0, 4).join('/');
    if (s[4] === 'subscriptions') return { method: 'ListTopicSubscriptions', request: { topic, ...paging() } };
    if (s[4] === 'snapshots') return { method: 'ListTopicSnapshots', request: { topic, ...paging() } };
    return undefined;
  }
  if (s.length !== 4) return undefined;
  const name = p;
  if (s[2] === 'topics') {
    if (verb === 'publish' && m === 'POST') return { method: 'Publish', request: { ...body, topic: name } };
    if (verb !== undefined) return undefined;
    if (m === 'PUT') return { method: 'CreateTopic', request: { ...body, name } };
    if (m === 'GET') return { method: 'GetTopic', request: { topic: name } };
    if (m === 'DELETE') return { method: 'DeleteTopic', request: { topic: name } };
    if (m === 'PATCH') return { method: 'UpdateTopic', request: { ...body, topic: { ...((body.topic) ?? {}), name } } };
    return undefined;
  }
  if (verb !== undefined) {
    if (m !== 'POST') return undefined;
    const rpc = { pull: 'Pull', acknowledge: 'Acknowledge', modifyAckDeadline: 'ModifyAckDeadline', modifyPushConfig: 'ModifyPushConfig', seek: 'Seek' }[verb];
    return rpc === undefined ? undefined : { method: rpc, request: { ...body, subscription: name } };
  }
  if (m === 'PUT') return { method: 'CreateSubscription', request: { ...body, name } };
  if (m === 'GET') return { method: 'GetSubscription', request: { subscription: name } };
  if (m === 'DELETE') return { method: 'DeleteSubscription', request: { subscription: name } };
  if (m === 'PATCH') {
    return { method: 'UpdateSubscription', request: { ...body, subscription: { ...((body.subscription) ?? {}), name } } };
  }
  return undefined;
}

/** The Pub/Sub v1 REST/JSON face: `/v1/projects/P/topics…` and `/v1/projects/P/subscriptions…`, Google error JSON. */
export function makePubSubRestHandler(engine: PubSubEngine, logger: Logger): (req: IncomingMessage, res: ServerResponse, path: string) => void {
  const handlers = pubsubHandlers(engine, 'json');
  return (req, res, path) => {
    (async () => {
      const url = new URL(req.url ?? '/', 'http://emulator');
      const body = ((await readJson(req)) ?? {}) as Req;
      const method = req.method ?? 'GET';
      const routed = routePubSub(method, path, body, url.searchParams);
      if (routed === undefined) throw notFound(`No Pub/Sub API method matches ${method} ${path}. Paths look like /v1/projects/P/topics/T:publish.`);
      const abort = new AbortController();
      res.once('close', () => abort.abort());
      const result = await handlers[routed.method]!(routed.request, abort.signal);
      if (!res.writableEnded && !res.destroyed) sendJson(res, 200, result);
    })().catch((err: unknown) => {
      const e = toApiError(err);
      if (e.status === 'INTERNAL') logger.error({ err, path }, 'Pub/Sub REST request failed');
      else logger.debug({ path, status: e.status, reason: e.message }, 'Pub/Sub REST request rejected');
      if (!res.headersSent) sendError(res, e);
      else res.destroy();
    });
  };
}
