/** Push delivery settings of a subscription (absent: a pull subscription). */
export interface PushConfigRecord {
  /** The URL messages are POSTed to. */
  pushEndpoint: string;
  /** Endpoint attributes (e.g. x-goog-version); stored and shown, not interpreted. */
  attributes: Record<string, string>;
  /** Sign an OIDC token for each push, as this service account, for this audience ('' = the endpoint). */
  oidcToken?: { serviceAccountEmail: string; audience: string };
  /** Unwrapped delivery: the body is the raw data; `writeMetadata` puts metadata and attributes in headers. */
  noWrapper?: { writeMetadata: boolean };
}

/** Redelivery backoff after a nack or an expired deadline (absent: redeliver at once). */
export interface RetryPolicyRecord {
  minimumBackoffMs: number;
  maximumBackoffMs: number;
}

/** Where messages go after too many delivery attempts. */
export interface DeadLetterPolicyRecord {
  /** Full topic name. */
  deadLetterTopic: string;
  /** 5 to 100. */
  maxDeliveryAttempts: number;
}

/** A topic as the API shows it. */
export interface TopicRecord {
  name: string;
  labels: Record<string, string>;
  /** Topic-level retention (ms), stored and shown; absent when not set. */
  messageRetentionDurationMs?: number;
  /** Customer-managed key name, stored and shown (nothing is encrypted locally). */
  kmsKeyName?: string;
}

/** A subscription as the API shows it (defaults filled in, as production returns them). */
export interface SubscriptionRecord {
  name: string;
  /** Full topic name, or `_deleted-topic_` once the topic is deleted. */
  topic: string;
  pushConfig?: PushConfigRecord | undefined;
  /** 10 to 600. */
  ackDeadlineSeconds: number;
  retainAckedMessages: boolean;
  messageRetentionDurationMs: number;
  labels: Record<string, string>;
  enableMessageOrdering: boolean;
  /** Subscription expiry after inactivity (ms); 0 = never. Stored and shown, not enforced. */
  expirationTtlMs: number;
  filter: string;
  deadLetterPolicy?: DeadLetterPolicyRecord | undefined;
  retryPolicy?: RetryPolicyRecord | undefined;
  detached: boolean;
  enableExactlyOnceDelivery: boolean;
}

/** What CreateSubscription / UpdateSubscription / a queues file give: any field may be missing. */
export type SubscriptionInput = Partial<Omit<SubscriptionRecord, 'expirationTtlMs'>> & {
  /** undefined: not given; null: an expirationPolicy without ttl (never expires). */
  expirationTtlMs?: number | null | undefined;
  /** An empty pushConfig (no endpoint) turns a push subscription back into a pull one. */
  pushConfig?: PushConfigRecord | undefined;
};

/** What CreateTopic / UpdateTopic / a queues file give. */
export type TopicInput = Partial<TopicRecord>;

/** A published message, shared by every subscription of its topic (never mutated). */
export interface StoredMessage {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  publishTimeMs: number;
  orderingKey: string;
}

/** A message handed to a subscriber. */
export interface Delivery {
  ackId: string;
  message: StoredMessage;
  /** 1-based; 0 when the subscription has no dead-letter policy (production leaves it unset then). */
  deliveryAttempt: number;
}

/** Limits production enforces (cloud.google.com/pubsub/quotas#resource_limits). */
export const PUBSUB_LIMITS = {
  maxMessagesPerPublish: 1000,
  maxPublishRequestBytes: 10_000_000,
  maxMessageBytes: 10_000_000,
  maxAttributes: 100,
  maxAttributeKeyBytes: 256,
  maxAttributeValueBytes: 1024,
  maxOrderingKeyBytes: 1024,
  minAckDeadlineSeconds: 10,
  maxAckDeadlineSeconds: 600,
  defaultAckDeadlineSeconds: 10,
  maxBackoffMs: 600_000,
  defaultMinimumBackoffMs: 10_000,
  defaultMaximumBackoffMs: 600_000,
  minDeliveryAttempts: 5,
  maxDeliveryAttempts: 100,
  minRetentionMs: 600_000,
  maxSubscriptionRetentionMs: 7 * 86_400_000,
  maxTopicRetentionMs: 31 * 86_400_000,
  defaultRetentionMs: 7 * 86_400_000,
  defaultExpirationTtlMs: 31 * 86_400_000,
  minExpirationTtlMs: 86_400_000,
  maxPageSize: 1000,
} as const;
