import { LIMITS, type HttpMethod, type HttpTarget, type TaskInput } from '../model.js';
import { invalidArgument } from '../status.js';
import { headersSize } from './task-size.js';

/** A CreateTask input that passed validation, with production's defaults applied. */
export interface ValidTask {
  /** The target, its headers without the ones Cloud Tasks owns. */
  http: HttpTarget;
  /** When the task is due: now, or its schedule_time when that is later. */
  scheduleTimeMs: number;
  dispatchDeadlineMs: number;
}

const BODY_METHODS: ReadonlySet<HttpMethod> = new Set(['POST', 'PUT', 'PATCH']);
/** The User-Agent of every HTTP task's push. */
export const HTTP_USER_AGENT = 'Google-Cloud-Tasks';
/** Headers the emulator sets or the HTTP layer owns; a task cannot override them. */
const RESERVED_HEADER = /^(host|content-length|user-agent|connection|keep-alive|transfer-encoding|upgrade|te|trailer|x-cloudtasks-.*|x-google-.*|x-appengine-.*)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

/**
 * Validates a task's own fields as production does (target, method and body, token, headers,
 * schedule time, dispatch deadline); the size of the whole task is checked once it is built. The task's name is checked by the engine, which knows the
 * queue. Target URLs already seen are remembered: tasks of a queue usually share a handful.
 */
export class TaskInputValidator {
  private readonly validUrls = new Set<string>();

  /** Throws INVALID_ARGUMENT naming the field at fault. */
  validate(input: TaskInput, now: number): ValidTask {
    if (input.appEngine) {
      throw invalidArgument('App Engine tasks (app_engine_http_request) are not supported by the emulator: use http_request.');
    }
    const http = input.http;
    if (http === undefined) throw invalidArgument('task.http_request is required (the emulator supports HTTP targets).');
    this.validateUrl(http.url);
    if (http.body !== undefined && http.body.length > 0 && !BODY_METHODS.has(http.httpMethod)) {
      throw invalidArgument(`A task body is only allowed with POST, PUT or PATCH, not ${http.httpMethod}.`);
    }
    if (http.auth !== undefined && http.auth.serviceAccountEmail === '') {
      throw invalidArgument(`${http.auth.kind === 'oidc' ? 'oidc_token' : 'oauth_token'}.service_account_email is required.`);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(http.headers)) {
      if (!HEADER_NAME.test(k)) throw invalidArgument(`Invalid HTTP header name '${k}' in task.http_request.headers.`);
      if (HEADER_VALUE_FORBIDDEN.test(v)) throw invalidArgument(`Invalid value for HTTP header '${k}': control characters are not allowed.`);
      if (!RESERVED_HEADER.test(k)) headers[k] = v;
    }
    const size = headersSize(http.headers);
    if (size >= LIMITS.maxHeadersBytes) {
      throw invalidArgument(`The size of the headers must be less than 80KB: task.http_request.headers hold ${size} bytes.`);
    }
    // "User-Agent: This will be set to "Google-Cloud-Tasks"" (target.proto); the stored task shows it
    // too (conformance/golden/headers.json).
    headers['User-Agent'] = HTTP_USER_AGENT;
    if (input.scheduleTimeMs !== undefined && input.scheduleTimeMs > now + LIMITS.maxScheduleAheadMs) {
      throw invalidArgument(
        `schedule_time ${new Date(input.scheduleTimeMs).toISOString()} is too far in the future: the maximum is 30 days from now.`,
      );
    }
    const deadline = input.dispatchDeadlineMs ?? LIMITS.defaultDispatchDeadlineMs;
    if (deadline < LIMITS.minDispatchDeadlineMs || deadline > LIMITS.maxDispatchDeadlineMs) {
      throw invalidArgument(`dispatch_deadline must be between 15s and 30m (1800s), got ${deadline / 1000}s.`);
    }
    return {
      http: { ...http, headers },
      scheduleTimeMs: input.scheduleTimeMs !== undefined && input.scheduleTimeMs > now ? input.scheduleTimeMs : now,
      dispatchDeadlineMs: deadline,
    };
  }

  private validateUrl(url: string): void {
    if (this.validUrls.has(url)) return;
    validateUrl(url);
    if (this.validUrls.size >= 10_000) this.validUrls.clear();
    this.validUrls.add(url);
  }
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
