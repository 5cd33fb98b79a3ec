import {
  Code,
  ConnectError,
  deadlineExceeded,
  failedPrecondition,
  invalidArgument,
  isConnectionError,
  permissionDenied,
  resourceExhausted,
  toConnectError,
  unauthenticated,
  unavailable,
} from '@prism/sdk';

/**
 * The numeric ClickHouse error code in a server error's text. 18.16 writes `Code: 60, e.displayText() =
 * DB::Exception: ...` without the `(TYPE)` suffix newer servers add, so @clickhouse/client's parser does not
 * recognise it and hands back a plain Error: the code is read from the text here.
 */
export function clickHouseCode(err: unknown): number | undefined {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /\bCode: (\d+)[.,]/.exec(message);
  return m ? Number(m[1]) : undefined;
}

// Codes that mean "the request (its data or its size) cannot be processed": the caller must change it.
// (Syntax and type errors are not among them: the adapter writes every statement, so those are its bugs.)
const BAD_INPUT = new Set([
  6, // CANNOT_PARSE_TEXT
  26, // CANNOT_PARSE_QUOTED_STRING
  27, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  69, // ARGUMENT_OUT_OF_BOUND
  72, // CANNOT_PARSE_NUMBER
  117, // INCORRECT_DATA
  131, // TOO_LARGE_STRING_SIZE
  153, // ILLEGAL_DIVISION
  158, // TOO_MANY_ROWS
  168, // TOO_BIG_AST
  321, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
]);
// Transient server conditions: retrying later can succeed.
const TRANSIENT = new Set([
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  252, // TOO_MANY_PARTS
  394, // QUERY_WAS_CANCELLED (server shutting down)
]);

/**
 * Maps a @clickhouse/client failure to the Connect code a caller can act on; `where` names namespace and
 * backend, `scrub` removes secrets. Network failures and request timeouts are UNAVAILABLE (the next call
 * opens a new connection, so the adapter recovers by itself when the server is back).
 */
export function mapClickHouseError(err: unknown, where: string, scrub: (s: string) => string): ConnectError {
  if (err instanceof ConnectError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const message = scrub(raw.replace(/, e\.what\(\) = DB::Exception\s*$/, '').trim());
  if (isConnectionError(err)) return unavailable(`${where} is unavailable: ${message}`);
  // The client's own deadline (request_timeout_ms): a hung or overloaded server.
  if (/^Timeout error/.test(raw)) return unavailable(`${where} did not answer in time: ${message}`);
  const code = clickHouseCode(err);
  if (code === undefined) return toConnectError(err instanceof Error ? new Error(message) : message, where);
  const msg = `${where}: ${message}`;
  if (code === 159) return deadlineExceeded(`${where}: the query ran out of time (max_execution_time)`);
  if (code === 241) return resourceExhausted(`${msg}; narrow the time range or the selector`);
  if (TRANSIENT.has(code)) return unavailable(`${msg}; retry the call`);
  if (BAD_INPUT.has(code)) return invalidArgument(msg);
  // 192 UNKNOWN_USER, 193 WRONG_PASSWORD, 194 REQUIRED_PASSWORD, 516 AUTHENTICATION_FAILED.
  if (code === 192 || code === 193 || code === 194 || code === 516) return unauthenticated(msg);
  // 164 READONLY, 497 ACCESS_DENIED.
  if (code === 164 || code === 497) return permissionDenied(msg);
  // 81 UNKNOWN_DATABASE, 60 UNKNOWN_TABLE: the schema was changed behind the adapter's back.
  if (code === 81 || code === 60) return failedPrecondition(`${msg} (restart the namespace to recreate it)`);
  return new ConnectError(`${msg} (ClickHouse error code ${code})`, Code.Internal, undefined, undefined, err);
}
