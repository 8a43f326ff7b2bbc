/** Talking to Cloud Tasks: paths, clients, the operations, and their errors explained. */
export { makeTasksClient, newEmulatorClient, newTasksClient, closeTasksClients, parseHostPort, type TasksClientOptions } from './tasks-client.js';
export { handoffTaskId, outcomeTaskId, taskPath, shortName, type HandoffKind } from './names.js';
export { queuePath, parseQueuePath, queueParent, resolveQueuePath, isQueueId, type QueuePath, type QueueParts } from './paths.js';
export { makeCreateTask, type CreateTask, type CreatedTask, type TaskDescription, type TasksApi } from './create-task.js';
export { explainTasksError, grpcCodeOf, type Endpoint } from './explain.js';
export { assessQueueAttempts, DEFAULT_QUEUE_MAX_ATTEMPTS, type AttemptsVerdict } from './attempts.js';
export { getQueueMaxAttempts, type QueueReader } from './get-queue-attempts.js';
