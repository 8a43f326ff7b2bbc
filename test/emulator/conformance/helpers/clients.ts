// Official @google-cloud/tasks clients pointed at a local emulator, in both transports. The
// conformance suite talks to the emulator only through these (plus plain HTTP for REST-only checks).
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { PassThroughClient } from 'google-auth-library';

type ClientOptions = NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]>;

/** The two transports of the official client: gRPC (HTTP/2) and REST (`fallback: true`, HTTP/1.1 JSON). */
export type Mode = 'grpc' | 'rest';

/** Both transports, for `describe.each(MODES)`. */
export const MODES: readonly Mode[] = ['grpc', 'rest'];

/** Where an emulator listens. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

type GaxiosResponse<T> = Awaited<ReturnType<typeof PassThroughClient.prototype.request<T>>>;

/**
 * No credentials, and every HTTP status handed back to google-gax: by default gaxios throws on a
 * non-2xx answer, so the client would surface a GaxiosError carrying the HTTP status (409) instead of
 * letting gax decode the Google error JSON into a GoogleError with the gRPC code (ALREADY_EXISTS = 6),
 * which is what its fallback decoder is written for.
 */
class NoAuthClient extends PassThroughClient {
  override async request<T>(opts: Parameters<PassThroughClient['request']>[0]): Promise<GaxiosResponse<T>> {
    return super.request<T>({ ...opts, validateStatus: () => true });
  }
}

/**
 * gRPC mode: insecure channel credentials replace google-gax's TLS + Google credentials
 * (`_getCredentials` returns `sslCreds` as is when given). The auth client matters too: before
 * connecting, gax asks it for its universe domain, and a default GoogleAuth would go looking for
 * credentials — including the GCE metadata server, i.e. traffic off this machine.
 */
export function makeGrpcClient(endpoint: Endpoint): CloudTasksClient {
  return new CloudTasksClient({
    servicePath: endpoint.host,
    port: endpoint.port,
    sslCreds: grpc.credentials.createInsecure(),
    authClient: new NoAuthClient() as unknown as NonNullable<ClientOptions['authClient']>,
  });
}

/**
 * REST mode: google-gax's fallback stub builds `${protocol}://${servicePath}:${port}/v2/…` and sends
 * it through `auth.fetch`; NoAuthClient adds no Authorization header and never looks up
 * credentials. The client asks for `$alt=json;enum-encoding=int`, so enums travel as numbers.
 */
export function makeRestClient(endpoint: Endpoint): CloudTasksClient {
  return new CloudTasksClient({
    fallback: true,
    protocol: 'http',
    servicePath: endpoint.host,
    port: endpoint.port,
    // google-gax bundles its own google-auth-library, so the types differ while the shape matches.
    authClient: new NoAuthClient() as unknown as NonNullable<ClientOptions['authClient']>,
  });
}

/** The official client for the given transport. */
export function makeClient(mode: Mode, endpoint: Endpoint): CloudTasksClient {
  return mode === 'grpc' ? makeGrpcClient(endpoint) : makeRestClient(endpoint);
}
