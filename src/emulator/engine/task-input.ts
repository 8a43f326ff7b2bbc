import { LIMITS, type AppEngineInput, type AppEngineRouting, type AppEngineTarget, type HttpMethod, type HttpTarget, type TaskInput } from '../model.js';
import { invalidArgument } from '../status.js';
import { headersSize } from './task-size.js';

/** A CreateTask input that passed validation, with production's defaults applied. */
export interface ValidTask {
  /** The request to push, its headers as stored (without the ones Cloud Tasks owns, with the ones it sets). */
  http: HttpTarget;
  /** Set for an App Engine task. */
  appEngine?: AppEngineTarget;
  /** When the task is due: now, or its schedule_time when that is later. */
  scheduleTimeMs: number;
  dispatchDeadlineMs: number;
}

const BODY_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);
/** The User-Agent of every HTTP task's push. */
export const HTTP_USER_AGENT = 'Google-Cloud-Tasks';
/** What Cloud Tasks puts in (or appends to) an App Engine task's User-Agent (target.proto). */
export const APP_ENGINE_USER_AGENT = 'AppEngine-Google; (+http://code.google.com/appengine)';
/** Headers an App Engine task cannot set (target.proto: Host, X-Google-*, X-AppEngine-*; Content-Length is computed). */
const APP_ENGINE_RESERVED_HEADER = /^(host|content-length|connection|keep-alive|transfer-encoding|upgrade|te|trailer|x-google-.*|x-appengine-.*|x-cloudtasks-.*)$/i;
const APP_ENGINE_BODY_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT']);

/** Where an App Engine task of a queue goes: what the engine knows of the queue. */
export interface AppEngineContext {
  /** The queue's project (production's App Engine app). */
  project: string;
  /** The queue's routing override, which wins over the task's. */
  override?: AppEngineRouting;
  /** The local server standing in for the app (origin, e.g. http://localhost:8080). */
  host: string;
}
/** Headers the emulator sets or the HTTP layer owns; a task cannot override them. */
const RESERVED_HEADER = /^(host|content-length|user-agent|connection|keep-alive|transfer-encoding|upgrade|te|trailer|x-cloudtasks-.*|x-google-.*|x-appengine-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

/**
 * Validates a task's own fields as production does (target, method and body, token, headers,
 * schedule time, dispatch deadline), for HTTP and App Engine targets. The task's name and the size
 * of the whole task are checked by the engine, once it is built. Target URLs already seen are
 * remembered: tasks of a queue usually share a handful.
 */
export class TaskInputValidator {
  private readonly validUrls = new Set<string>();

  /**
   * Throws INVALID_ARGUMENT naming the field at fault. `defaultTarget` (emulator only) is the URL of
   * an HTTP task whose own is empty, as firebase-admin sends them to an emulator.
   */
  validate(input: TaskInput, now: number, appEngine: AppEngineContext, defaultTarget?: string): ValidTask {
    const http = input.http;
    if (input.appEngine !== undefined) {
      if (http !== undefined) throw invalidArgument('A task has either http_request or app_engine_http_request, not both.');
      return { ...validateAppEngine(input.appEngine, appEngine), ...timing(input, now) };
    }
    if (http === undefined) throw invalidArgument('The task has no target: set http_request (or app_engine_http_request).');
    if (http.url === '') {
      if (defaultTarget === undefined) {
        throw invalidArgument(
          'task.http_request.url is required. (Emulator: firebase-admin leaves it empty on purpose; start the emulator with --default-target URL, or give the queue a defaultTarget in the queues file.)',
        );
      }
      return this.validate({ ...input, http: { ...http, url: defaultTarget } }, now, appEngine);
    }
    this.validateUrl(http.url);
    if (http.body !== undefined && http.body.length > 0 && !BODY_METHODS.has(http.httpMethod)) {
      throw invalidArgument(`A task body is only allowed with POST, PUT or PATCH, not ${http.httpMethod}.`);
    }
    if (http.auth !== undefined && http.auth.serviceAccountEmail === '') {
      throw invalidArgument(`${http.auth.kind === 'oidc' ? 'oidc_token' : 'oauth_token'}.service_account_email is required.`);
    }
    const headers = ownHeaders(http.headers, RESERVED_HEADER, 'task.http_request.headers');
    const size = headersSize(http.headers);
    if (size >= LIMITS.maxHeadersBytes) {
      throw invalidArgument(`The size of the headers must be less than 80KB: task.http_request.headers hold ${size} bytes.`);
    }
    // "User-Agent: This will be set to "Google-Cloud-Tasks"" (target.proto); the stored task shows it
    // too (conformance/golden/headers.json).
    headers['User-Agent'] = HTTP_USER_AGENT;
    return { http: { ...http, headers }, ...timing(input, now) };
  }

  private validateUrl(url: string): void {
    if (this.validUrls.has(url)) return;
    validateUrl(url);
    if (this.validUrls.size >= 10_000) this.validUrls.clear();
    this.validUrls.add(url);
  }
}

/** schedule_time (≤ 30 days ahead; past = now) and dispatch_deadline (15 s to 30 min, default 10 min). */
function timing(input: TaskInput, now: number): { scheduleTimeMs: number; dispatchDeadlineMs: number } {
  if (input.scheduleTimeMs !== undefined && input.scheduleTimeMs > now + LIMITS.maxScheduleAheadMs) {
    throw invalidArgument(`schedule_time ${new Date(input.scheduleTimeMs).toISOString()} is too far in the future: the maximum is 30 days from now.`);
  }
  const deadline = input.dispatchDeadlineMs ?? LIMITS.defaultDispatchDeadlineMs;
  if (deadline < LIMITS.minDispatchDeadlineMs || deadline > LIMITS.maxDispatchDeadlineMs) {
    throw invalidArgument(`dispatch_deadline must be between 15s and 30m (1800s), got ${deadline / 1000}s.`);
  }
  return {
    scheduleTimeMs: input.scheduleTimeMs !== undefined && input.scheduleTimeMs > now ? input.scheduleTimeMs : now,
    dispatchDeadlineMs: deadline,
  };
}

/** Checks header names and values; keeps those `reserved` does not match. */
function ownHeaders(headers: Record<string, string>, reserved: RegExp, field: string): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!HEADER_NAME.test(k)) throw invalidArgument(`Invalid HTTP header name '${k}' in ${field}.`);
    if (HEADER_VALUE_FORBIDDEN.test(v)) throw invalidArgument(`Invalid value for HTTP header '${k}': control characters are not allowed.`);
    if (!reserved.test(k)) kept[k] = v;
  }
  return kept;
}

/** `[instance.][version.][service.]PROJECT.appspot.com`: the host production routes to. */
export function appEngineHost(project: string, r: AppEngineRouting): string {
  return [r.instance, r.version, r.service, project].filter((p) => p !== undefined && p !== '').join('.') + '.appspot.com';
}

/**
 * An App Engine request as production stores it (target.proto, AppEngineHttpRequest): the
 * relative URI defaults to "/", a body needs POST or PUT, User-Agent is Cloud Tasks' (appended to the
 * task's own), and a body brings Content-Type (default application/octet-stream) and Content-Length
 * (conformance/golden/headers.json, headers/appengine*). It is pushed to the local App Engine host.
 */
function validateAppEngine(ae: AppEngineInput, ctx: AppEngineContext): { http: HttpTarget; appEngine: AppEngineTarget } {
  const relativeUri = ae.relativeUri === '' ? '/' : ae.relativeUri;
  if (!relativeUri.startsWith('/') || /\s/.test(relativeUri) || relativeUri.length > 2083) {
    throw invalidArgument(
      `app_engine_http_request.relative_uri must begin with "/", contain no spaces and be at most 2083 characters, got '${relativeUri.slice(0, 100)}'.`,
    );
  }
  const body = ae.body !== undefined && ae.body.length > 0 ? ae.body : undefined;
  if (body !== undefined && !APP_ENGINE_BODY_METHODS.has(ae.httpMethod)) {
    throw invalidArgument(`An App Engine task body is only allowed with POST or PUT, not ${ae.httpMethod}.`);
  }
  const headers = ownHeaders(ae.headers, APP_ENGINE_RESERVED_HEADER, 'app_engine_http_request.headers');
  const uaKey = Object.keys(headers).find((k) => k.toLowerCase() === 'user-agent');
  const ua = uaKey === undefined ? undefined : headers[uaKey];
  if (uaKey !== undefined) delete headers[uaKey];
  headers['User-Agent'] = ua === undefined || ua === '' ? APP_ENGINE_USER_AGENT : `${ua} ${APP_ENGINE_USER_AGENT}`;
  if (body !== undefined) {
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/octet-stream';
    headers['Content-Length'] = String(body.length);
  }
  const routing: AppEngineRouting = { ...(ctx.override ?? ae.routing ?? {}) };
  const http: HttpTarget = { url: `${ctx.host.replace(/\/+$/, '')}${relativeUri}`, httpMethod: ae.httpMethod, headers };
  if (body !== undefined) http.body = body;
  return { http, appEngine: { relativeUri, routing, host: appEngineHost(ctx.project, routing) } };
}

function validateUrl(url: string): void {
  if (url === '') throw invalidArgument('task.http_request.url is required.');
  if (url.length > 2083) throw invalidArgument(`task.http_request.url is longer than 2083 characters (${url.length}).`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidArgument(`task.http_request.url '${url}' is not a valid absolute URL.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalidArgument(`task.http_request.url must start with 'http://' or 'https://', got '${url}'.`);
  }
}
