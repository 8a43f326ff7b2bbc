// gRPC server reflection (an emulator extra; production does not offer it): grpcurl and similar
// tools discover the API from the server itself. Driven here with the v1 reflection protocol
// (grpc/reflection/v1/reflection.proto, shipped by @grpc/reflection) over a real connection.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.js';

interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

const require = createRequire(import.meta.url);
const protoPath = path.join(path.dirname(require.resolve('@grpc/reflection')), '..', 'proto', 'grpc', 'reflection', 'v1', 'reflection.proto');

describe('gRPC server reflection', () => {
  let emulator: Emulator;
  let client: grpc.Client & { ServerReflectionInfo: () => grpc.ClientDuplexStream<unknown, ReflectionResponse> };
  beforeAll(async () => {
    emulator = await startEmulator();
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { keepCase: false, longs: Number, defaults: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    client = new pkg.grpc.reflection.v1.ServerReflection(emulator.address, grpc.credentials.createInsecure()) as unknown as typeof client;
  });
  afterAll(async () => {
    client?.close();
    await emulator?.close();
  });

  function ask(request: Record<string, unknown>): Promise<ReflectionResponse> {
    return new Promise((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (r: ReflectionResponse) => {
        resolve(r);
        call.end();
      });
      call.on('error', reject);
      call.write(request);
    });
  }

  it('lists the CloudTasks service', async () => {
    const r = await ask({ listServices: '' });
    expect(r.listServicesResponse?.service.map((s) => s.name)).toContain('google.cloud.tasks.v2.CloudTasks');
  });

  it('describes the service and its messages, so a tool can call it without proto files', async () => {
    const r = await ask({ fileContainingSymbol: 'google.cloud.tasks.v2.CloudTasks' });
    const files = (r.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) => descriptor.FileDescriptorProto.decode(b) as unknown as {
      package: string;
      service: Array<{ name: string; method: Array<{ name: string; inputType: string }> }>;
      messageType: Array<{ name: string }>;
    });
    const service = files.flatMap((f) => f.service.map((s) => ({ pkg: f.package, ...s }))).find((s) => s.name === 'CloudTasks');
    expect(service?.pkg).toBe('google.cloud.tasks.v2');
    expect(service?.method.map((m) => m.name)).toEqual(expect.arrayContaining(['CreateQueue', 'CreateTask', 'ListTasks', 'RunTask', 'SetIamPolicy']));
    expect(service?.method.find((m) => m.name === 'CreateTask')?.inputType).toBe('.google.cloud.tasks.v2.CreateTaskRequest');
    const symbol = await ask({ fileContainingSymbol: 'google.cloud.tasks.v2.Task' });
    expect(symbol.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
  });
});
