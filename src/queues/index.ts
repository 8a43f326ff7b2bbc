export { makeTasksClient, newEmulatorClient, closeTasksClients, parseHostPort, type TasksClientOptions } from './tasks-client.js';
export { handoffTaskId, outcomeTaskId, taskPath, shortName, type HandoffKind } from './names.js';
