import { pino } from 'pino';

export type { Logger } from 'pino';

/** Field paths never written to logs, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'credentials',
  '*.credentials',
  'url',
  '*.url',
  '*.*.url',
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  readonly name: string;
  /** pino level; default from PRISM_LOG_LEVEL or "info". */
  readonly level?: string;
  /** Write to this fd/stream instead of stdout (e.g. 2 for stderr). */
  readonly destination?: number;
  /** Write each JSON line to this stream instead (e.g. to capture logs in a test); wins over `destination`. */
  readonly stream?: { write(line: string): void };
}

/** A structured JSON logger (pino) that redacts secrets and URLs that may carry them. */
export function createLogger(opts: LoggerOptions) {
  return pino(
    {
      name: opts.name,
      level: opts.level ?? process.env.PRISM_LOG_LEVEL ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    opts.stream ?? pino.destination({ dest: opts.destination ?? 1, sync: false }),
  );
}

/** Removes user:password from a URL so it can appear in an error message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
