/**
 * Pub/Sub topic paths: typed, validated and built from a short id, with production's rules. Pure,
 * so parsing flags never loads the Pub/Sub client.
 */
import { PROJECT_ID } from './paths.js';

/** A Pub/Sub topic's full resource name. */
export type TopicPath = `projects/${string}/topics/${string}`;

// Production's rule: a topic id starts with a letter, is 3 to 255 characters of letters, digits and
// - _ . ~ + %, and does not start with "goog".
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** True when `id` is a valid topic id. */
export const isTopicId = (id: string): boolean => TOPIC_ID.test(id) && !id.toLowerCase().startsWith('goog');

/**
 * Accepts `projects/P/topics/T` or a short topic id plus a project. Returns the path, or pushes a
 * problem naming the flag and returns undefined.
 */
export function resolveTopicPath(flag: string, value: string, project: string | undefined, problems: string[]): TopicPath | undefined {
  if (value.startsWith('projects/')) {
    const parts = value.split('/');
    if (parts.length !== 4 || parts[2] !== 'topics' || !PROJECT_ID.test(parts[1]!) || !isTopicId(parts[3]!)) {
      problems.push(`${flag} must be projects/PROJECT/topics/TOPIC or a topic id, got '${value}'`);
      return undefined;
    }
    return value as TopicPath;
  }
  if (!isTopicId(value)) {
    problems.push(`${flag} must be a topic id (a letter, then 2 to 254 of letters, digits and - _ . ~ + %; not "goog…") or a full topic path, got '${value}'`);
    return undefined;
  }
  if (project === undefined) {
    problems.push(`${flag} '${value}' is a short topic id: pass --project (or GOOGLE_CLOUD_PROJECT), a full topic path, or --emulator host:port to use a local emulator`);
    return undefined;
  }
  return `projects/${project}/topics/${value}`;
}

