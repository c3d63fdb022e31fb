/**
 * A small CRI (runtime.v1) client, the calls the kubelet makes: @grpc/proto-loader
 * reads the CRI's api.proto (../shared/cri-api, kubernetes/cri-api; no imports)
 * and @grpc/grpc-js talks to containerd's unix socket. Field names are the
 * proto's (snake_case), enums are strings ('NODE', 'POD', 'CONTAINER_EXITED'),
 * int64 are numbers.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Msg = Record<string, any>;

/** Where the CRI's api.proto is: RUNTS_CRI_PROTO, else ../shared/cri-api next to the checkout, else /work/shared. */
export function criProto(): string | null {
  const candidates = [
    process.env.RUNTS_CRI_PROTO,
    path.resolve(__dirname, '../../../shared/cri-api/api.proto'),
    '/work/shared/cri-api/api.proto',
  ].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

/** A gRPC error: the status code's name (e.g. DEADLINE_EXCEEDED) and the server's message. */
export class CriError extends Error {
  constructor(readonly method: string, readonly code: string, readonly details: string) {
    super(`${method}: ${code}: ${details}`);
  }
}

export class CriClient {
  private readonly runtime: grpc.Client & Record<string, any>;
  private readonly image: grpc.Client & Record<string, any>;

  constructor(socket: string, proto: string) {
    const def = protoLoader.loadSync(proto, { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true });
    const pkg = grpc.loadPackageDefinition(def) as any;
    const v1 = pkg.runtime.v1;
    const target = `unix://${socket}`;
    // containerd's CRI replies can be big (verbose status info): no 4 MiB receive limit
    const opts = { 'grpc.max_receive_message_length': 64 << 20 };
    this.runtime = new v1.RuntimeService(target, grpc.credentials.createInsecure(), opts);
    this.image = new v1.ImageService(target, grpc.credentials.createInsecure(), opts);
  }

  private call(client: grpc.Client & Record<string, any>, method: string, req: Msg, timeoutMs: number): Promise<Msg> {
    return new Promise((resolve, reject) => {
      client[method](req, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: Msg) => {
        if (err) reject(new CriError(method, grpc.status[err.code] ?? String(err.code), err.details));
        else resolve(res);
      });
    });
  }

  /** A RuntimeService call by its proto name (RunPodSandbox, ExecSync, ...). */
  rt(method: string, req: Msg = {}, timeoutMs = 120_000): Promise<Msg> {
    return this.call(this.runtime, method, req, timeoutMs);
  }

  /** An ImageService call by its proto name (ListImages, ImageStatus, ...). */
  img(method: string, req: Msg = {}, timeoutMs = 60_000): Promise<Msg> {
    return this.call(this.image, method, req, timeoutMs);
  }

  close(): void {
    this.runtime.close();
    this.image.close();
  }
}
