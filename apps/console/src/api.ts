// The console talks to the proxy only through its public services: the admin API
// (prism.admin.v1.AdminService), the client interfaces (KeyValueBasicInterface, …) and GET /metrics, all
// on the admin listener the page is served from (same origin: no CORS, no second URL to configure).
import type { DescService } from '@bufbuild/protobuf';
import { type Client, Code, ConnectError, createClient, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-web';
import { AdminService } from '@prism/proto/prism/admin/v1/admin_pb';
import { KeyValueBasicInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_basic_pb';
import { KeyValueScanInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_scan_pb';
import { KeyValueTTLInterface } from '@prism/proto/prism/keyvalue/v1/keyvalue_ttl_pb';
import { PubSubBasicInterface } from '@prism/proto/prism/pubsub/v1/pubsub_basic_pb';
import { QueueDeadLetterInterface } from '@prism/proto/prism/queue/v1/queue_dead_letter_pb';
import { StreamBasicInterface } from '@prism/proto/prism/stream/v1/stream_basic_pb';

/** Every client the console uses, bound to one token. */
export interface Api {
  readonly token: string;
  readonly admin: Client<typeof AdminService>;
  readonly kv: Client<typeof KeyValueBasicInterface>;
  readonly scan: Client<typeof KeyValueScanInterface>;
  readonly ttl: Client<typeof KeyValueTTLInterface>;
  readonly pubsub: Client<typeof PubSubBasicInterface>;
  readonly stream: Client<typeof StreamBasicInterface>;
  readonly deadLetter: Client<typeof QueueDeadLetterInterface>;
  /** GET /metrics (Prometheus text); throws a ConnectError-like error on 401/403. */
  metrics(): Promise<string>;
}

/** The origin the page came from: the proxy's admin listener. */
const baseUrl = new URL('/', location.href).toString().replace(/\/$/, '');

/** Clients that send `Authorization: Bearer <token>` when a token is set. */
export function createApi(token: string): Api {
  const bearer: Interceptor = (next) => (req) => {
    if (token) req.header.set('Authorization', `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl, useBinaryFormat: true, interceptors: [bearer] });
  const client = <S extends DescService>(service: S) => createClient(service, transport);
  return {
    token,
    admin: client(AdminService),
    kv: client(KeyValueBasicInterface),
    scan: client(KeyValueScanInterface),
    ttl: client(KeyValueTTLInterface),
    pubsub: client(PubSubBasicInterface),
    stream: client(StreamBasicInterface),
    deadLetter: client(QueueDeadLetterInterface),
    async metrics() {
      const res = await fetch(`${baseUrl}/metrics`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
        cache: 'no-store',
      });
      const text = await res.text();
      if (res.ok) return text;
      const code =
        res.status === 401
          ? Code.Unauthenticated
          : res.status === 403
            ? Code.PermissionDenied
            : Code.Unavailable;
      // The proxy answers "PERMISSION_DENIED: <why>"; the code is shown from `code`.
      throw new ConnectError(
        text.trim().replace(/^[A-Z_]+: /, '') || `GET /metrics answered ${res.status}`,
        code,
      );
    },
  };
}

const CODE_NAMES: Readonly<Record<number, string>> = {
  [Code.Canceled]: 'CANCELLED',
  [Code.Unknown]: 'UNKNOWN',
  [Code.InvalidArgument]: 'INVALID_ARGUMENT',
  [Code.DeadlineExceeded]: 'DEADLINE_EXCEEDED',
  [Code.NotFound]: 'NOT_FOUND',
  [Code.AlreadyExists]: 'ALREADY_EXISTS',
  [Code.PermissionDenied]: 'PERMISSION_DENIED',
  [Code.ResourceExhausted]: 'RESOURCE_EXHAUSTED',
  [Code.FailedPrecondition]: 'FAILED_PRECONDITION',
  [Code.Aborted]: 'ABORTED',
  [Code.OutOfRange]: 'OUT_OF_RANGE',
  [Code.Unimplemented]: 'UNIMPLEMENTED',
  [Code.Internal]: 'INTERNAL',
  [Code.Unavailable]: 'UNAVAILABLE',
  [Code.DataLoss]: 'DATA_LOSS',
  [Code.Unauthenticated]: 'UNAUTHENTICATED',
};

/** "PERMISSION_DENIED: principal "x" has no write permission …" for any thrown value. */
export function describeError(err: unknown): string {
  const e = ConnectError.from(err);
  return `${CODE_NAMES[e.code] ?? e.code}: ${e.rawMessage}`;
}

/** True for errors that mean "your token may not do this" (rather than "it failed"). */
export function isAccessDenied(err: unknown): boolean {
  const { code } = ConnectError.from(err);
  return code === Code.PermissionDenied || code === Code.Unauthenticated;
}

/** True when the call was cancelled by the console itself (a stopped tail, a left page). */
export function isCancelled(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Canceled;
}
