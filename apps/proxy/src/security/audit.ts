import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { AuditConfig } from '@prism/config';
import { codeName, type Middleware, permissionOf } from '@prism/sdk';

/** One audit record (a JSON line). */
export interface AuditRecord {
  readonly time: string;
  readonly principal: string | null;
  readonly provider: string | null;
  readonly namespace: string;
  /** `interface.method`, e.g. `prism.keyvalue.v1.KeyValueBasicInterface.Get`. */
  readonly method: string;
  /** `OK` or the Connect code name, e.g. `PERMISSION_DENIED`. */
  readonly outcome: string;
  readonly duration_ms: number;
  readonly peer: string | null;
  readonly request_id: string;
  readonly trace_id: string | null;
}

/**
 * The audit sink: JSON lines appended to a file (or stdout), apart from the application log. Nothing
 * secret is in a record: no token, no request body.
 */
export class AuditLog {
  private out: WriteStream | NodeJS.WriteStream;

  constructor(readonly config: AuditConfig) {
    this.out = this.open();
  }

  write(record: AuditRecord): void {
    this.out.write(`${JSON.stringify(record)}\n`);
  }

  /** Reopens the file (SIGHUP after logrotate moved it). */
  reopen(): void {
    if (!this.config.path) return;
    const old = this.out as WriteStream;
    this.out = this.open();
    old.end();
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    if (!this.config.path) return Promise.resolve();
    return new Promise((resolve) => (this.out as WriteStream).end(resolve));
  }

  private open(): WriteStream | NodeJS.WriteStream {
    if (!this.config.path) return process.stdout;
    mkdirSync(dirname(this.config.path), { recursive: true });
    return createWriteStream(this.config.path, { flags: 'a', mode: 0o640 });
  }
}

/**
 * The audit middleware: one record per call when it ends, failures (denied calls included), writes and
 * admin calls always, successful reads sampled by `sample_reads`. It sits outside authentication so it
 * sees every refusal.
 */
export function audit(log: AuditLog): Middleware {
  const sampleReads = log.config.sampleReads;
  return (next) => (call) => {
    const t0 = performance.now();
    call.onEnd((error) => {
      if (
        !error &&
        sampleReads < 1 &&
        permissionOf(call.definition, call.method) === 'read' &&
        Math.random() >= sampleReads
      )
        return;
      const p = call.principal;
      log.write({
        time: new Date().toISOString(),
        principal: p?.subject ?? null,
        provider: p?.provider ?? null,
        namespace: call.namespace,
        method: `${call.service}.${call.method.name}`,
        outcome: codeName(error?.code),
        duration_ms: Math.round((performance.now() - t0) * 1000) / 1000,
        peer: call.peer ?? null,
        request_id: call.requestId,
        trace_id: traceId(call.trace?.traceparent ?? call.headers.get('traceparent')),
      });
    });
    return next(call);
  };
}

/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`). */
function traceId(traceparent: string | null | undefined): string | null {
  const id = traceparent?.split('-')[1];
  return id && /^[0-9a-f]{32}$/.test(id) ? id : null;
}
