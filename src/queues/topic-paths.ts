/**
 * Pub/Sub resource names: the one place a topic's and a subscription's name is typed, parsed and
 * built. Production's rules: ids start with a letter, hold letters, digits and `-_.~+%`, are 3 to
 * 255 characters long and do not start with `goog`.
 */
import { PROJECT_ID } from './paths.js';

/** A Pub/Sub topic's full resource name. */
export type TopicPath = `projects/${string}/topics/${string}`;

/** A Pub/Sub subscription's full resource name. */
export type SubscriptionPath = `projects/${string}/subscriptions/${string}`;

/** A topic or subscription id. */
export const PUBSUB_ID = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

function parse(value: string, collection: 'topics' | 'subscriptions'): { project: string; id: string } | undefined {
  const parts = value.split('/');
  if (parts.length !== 4 || parts[0] !== 'projects' || parts[2] !== collection) return undefined;
  const [, project, , id] = parts as [string, string, string, string];
  return PROJECT_ID.test(project) && PUBSUB_ID.test(id) ? { project, id } : undefined;
}

/** Splits `projects/P/topics/T`; undefined when it is not one. */
export const parseTopicPath = (value: string): { project: string; id: string } | undefined => parse(value, 'topics');

/** Splits `projects/P/subscriptions/S`; undefined when it is not one. */
export const parseSubscriptionPath = (value: string): { project: string; id: string } | undefined => parse(value, 'subscriptions');

/**
 * Accepts a full topic (or subscription) name, or a short id plus GOOGLE_CLOUD_PROJECT. Returns the
 * name, or pushes a problem naming the variable and returns undefined.
 */
export function resolvePubSubPath<K extends 'topics' | 'subscriptions'>(
  variable: string,
  value: string | undefined,
  project: string | undefined,
  collection: K,
  problems: string[],
): (K extends 'topics' ? TopicPath : SubscriptionPath) | undefined {
  type Out = K extends 'topics' ? TopicPath : SubscriptionPath;
  if (value === undefined) return undefined;
  const noun = collection === 'topics' ? 'topic' : 'subscription';
  if (value.startsWith('projects/')) {
    if (parse(value, collection) === undefined) {
      problems.push(`${variable} must be projects/PROJECT/${collection}/ID or a ${noun} id, got '${value}'`);
      return undefined;
    }
    return value as Out;
  }
  if (!PUBSUB_ID.test(value)) {
    problems.push(`${variable} must be a ${noun} id (a letter, then 2 to 254 of [A-Za-z0-9-_.~+%], not starting with goog) or a full name, got '${value}'`);
    return undefined;
  }
  if (project === undefined) {
    problems.push(`${variable} is a short ${noun} id ('${value}'): set GOOGLE_CLOUD_PROJECT, or give projects/PROJECT/${collection}/${value}`);
    return undefined;
  }
  return `projects/${project}/${collection}/${value}` as Out;
}
