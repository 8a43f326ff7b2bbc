/**
 * `--topic` of `executor submit`: a full topic path or a short id, with messages that name the
 * flags (topic-paths.ts holds the rules). Pure, so parsing flags never loads the Pub/Sub client.
 */
import { PUBSUB_ID, parseTopicPath, type TopicPath } from './topic-paths.js';

export type { TopicPath };

/**
 * Accepts `projects/P/topics/T` or a short topic id plus a project. Returns the path, or pushes a
 * problem naming the flag and returns undefined.
 */
export function resolveTopicPath(flag: string, value: string, project: string | undefined, problems: string[]): TopicPath | undefined {
  if (value.startsWith('projects/')) {
    if (parseTopicPath(value) === undefined) {
      problems.push(`${flag} must be projects/PROJECT/topics/TOPIC or a topic id, got '${value}'`);
      return undefined;
    }
    return value as TopicPath;
  }
  if (!PUBSUB_ID.test(value)) {
    problems.push(`${flag} must be a topic id (a letter, then 2 to 254 of letters, digits and - _ . ~ + %; not "goog…") or a full topic path, got '${value}'`);
    return undefined;
  }
  if (project === undefined) {
    problems.push(`${flag} '${value}' is a short topic id: pass --project (or GOOGLE_CLOUD_PROJECT), a full topic path, or --emulator host:port to use a local emulator`);
    return undefined;
  }
  return `projects/${project}/topics/${value}`;
}

