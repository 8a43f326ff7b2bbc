import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

/** Fully-qualified names of the two services. */
export const PUBLISHER_SERVICE = 'google.pubsub.v1.Publisher';
export const SUBSCRIBER_SERVICE = 'google.pubsub.v1.Subscriber';

/**
 * The v1 API definition exactly as the official client ships it (@google-cloud/pubsub's
 * build/protos/protos.json), so the emulator and the client never disagree on the wire format.
 */
export function loadPubSubDefinition(): protoLoader.PackageDefinition {
  const require = createRequire(import.meta.url);
  // The package's exports hide build/protos; find the folder from the package entry point.
  let dir = path.dirname(require.resolve('@google-cloud/pubsub'));
  while (path.basename(dir) !== 'pubsub' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const json = JSON.parse(readFileSync(path.join(dir, 'build', 'protos', 'protos.json'), 'utf8')) as Parameters<typeof protoLoader.fromJSON>[0];
  return protoLoader.fromJSON(json, { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: true });
}
