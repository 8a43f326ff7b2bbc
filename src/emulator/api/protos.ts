import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

const TASKS_PACKAGE = 'google.cloud.tasks.v2';

type ProtosJson = Parameters<typeof protoLoader.fromJSON>[0];
let protosJson: ProtosJson | undefined;

/** @google-cloud/tasks' build/protos/protos.json, read once. */
function readProtosJson(): ProtosJson {
  if (protosJson !== undefined) return protosJson;
  const require = createRequire(import.meta.url);
  // The package's exports hide build/protos/protos.json; find it from the package entry point.
  const entry = require.resolve('@google-cloud/tasks');
  let dir = path.dirname(entry);
  while (!path.basename(dir).startsWith('tasks') && path.dirname(dir) !== dir) dir = path.dirname(dir);
  protosJson = JSON.parse(readFileSync(path.join(dir, 'build', 'protos', 'protos.json'), 'utf8')) as ProtosJson;
  return protosJson;
}

/**
 * The v2 API definition exactly as the official client ships it (@google-cloud/tasks'
 * protos.json), so the emulator and the client can never disagree on the wire format.
 */
export function loadCloudTasksDefinition(): protoLoader.PackageDefinition {
  return protoLoader.fromJSON(readProtosJson(), { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: true });
}

/** The protobufjs type of google.cloud.tasks.v2.Task, from the same protos.json, for encoding responses directly. */
export function loadTaskType(): protobuf.Type {
  return protobuf.Root.fromJSON(readProtosJson()).lookupType(`${TASKS_PACKAGE}.Task`);
}

/** Fully-qualified name of the service. */
export const CLOUD_TASKS_SERVICE = `${TASKS_PACKAGE}.CloudTasks`;
