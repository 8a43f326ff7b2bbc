/** Talking to Cloud Tasks and Pub/Sub: paths, clients, the operations, and their errors explained. */
export { makeTasksClient, newEmulatorClient, newTasksClient, closeTasksClients, checkHostPort, parseHostPort, type TasksClientOptions } from './tasks-client.js';
export { handoffTaskId, outcomeEventId, outcomeTaskId, taskPath, shortName, type HandoffKind } from './names.js';
export { queuePath, parseQueuePath, queueParent, resolveQueuePath, isQueueId, type QueuePath, type QueueParts } from './paths.js';
export { makeCreateTask, type CreateTask, type CreatedTask, type TaskDescription, type TasksApi } from './create-task.js';
export { explainTasksError, grpcCodeOf, type Endpoint } from './explain.js';
export { assessQueueAttempts, assessSubscriptionAttempts, DEFAULT_QUEUE_MAX_ATTEMPTS, type AttemptsVerdict, type SubscriptionAttemptsVerdict } from './attempts.js';
export { getQueueMaxAttempts, type QueueReader } from './get-queue-attempts.js';
export { makePublisherClient, makeSubscriberClient, closePubSubClients } from './pubsub-client.js';
export { makePublish, type Publish, type PublishedMessage, type MessageDescription, type PublisherApi } from './publish.js';
export { getSubscriptionAttempts, type SubscriptionAttempts, type SubscriptionReader } from './get-subscription-attempts.js';
export { parseTopicPath, parseSubscriptionPath, resolvePubSubPath, PUBSUB_ID, type TopicPath, type SubscriptionPath } from './topic-paths.js';
