import { invalidArgument } from '../status.js';

// Production's rules (cloud.google.com/pubsub/docs/create-topic#resource_names): a topic or
// subscription id starts with a letter, is 3 to 255 characters of letters, digits and - _ . ~ + %,
// and must not start with "goog". Project ids follow the Cloud Tasks side's rule.
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9.:-]{0,99}$/;
const RESOURCE_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** The topic name production gives subscriptions whose topic was deleted. */
export const DELETED_TOPIC = '_deleted-topic_';

/** True when `id` is a valid topic or subscription id. */
export const isResourceId = (id: string): boolean => RESOURCE_ID.test(id) && !id.toLowerCase().startsWith('goog');

/** Parses `projects/P`; INVALID_ARGUMENT otherwise. */
export function parseProjectName(name: string): string {
  const parts = name.split('/');
  if (parts.length !== 2 || parts[0] !== 'projects' || !PROJECT.test(parts[1]!)) {
    throw invalidArgument(`Invalid project name '${name}': it must have the form projects/PROJECT_ID.`);
  }
  return parts[1]!;
}

/** Parses and validates `projects/P/{kind}/ID`; returns the project. */
function parseResourceName(name: string, kind: 'topics' | 'subscriptions'): { project: string; id: string } {
  const parts = name.split('/');
  if (parts.length !== 4 || parts[0] !== 'projects' || parts[2] !== kind || !PROJECT.test(parts[1]!) || !isResourceId(parts[3]!)) {
    throw invalidArgument(
      `Invalid [${kind}] name: (name=${name}). It must have the form projects/PROJECT_ID/${kind}/ID, where ID starts with a letter, ` +
        'is 3 to 255 letters, digits or - _ . ~ + %, and does not start with "goog".',
    );
  }
  return { project: parts[1]!, id: parts[3]! };
}

/** Parses and validates a topic name `projects/P/topics/T`. */
export const parseTopicName = (name: string): { project: string; id: string } => parseResourceName(name, 'topics');
/** Parses and validates a subscription name `projects/P/subscriptions/S`. */
export const parseSubscriptionName = (name: string): { project: string; id: string } => parseResourceName(name, 'subscriptions');
