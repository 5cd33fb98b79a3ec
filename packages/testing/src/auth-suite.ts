// The reusable authentication suite of the seeds (RFC-008 "Reusable Authentication Test Suite"): every
// backend, in every plugin mode, must treat credentials the same way. A test file calls
// describeAuthenticationSuite(name, factory) with a factory that starts instances against a REAL server
// with authentication on and can rotate that server's secret.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';

/** Credentials an instance is started with; no `password` = the secret is missing from the config. */
export interface BackendCredentials {
  readonly user: string;
  readonly password?: string;
}

/** A started instance, as the suite drives it. */
export interface AuthSession {
  /** One real operation on the backend (e.g. Set then Get); rejects with the Connect error the caller sees. */
  op(i: number): Promise<void>;
  close(): Promise<void>;
}

/** What {@link describeAuthenticationSuite} needs from a backend and a plugin mode. */
export interface AuthSuiteFactory {
  /** The credentials the server accepts now (after {@link rotate}, the new ones). */
  valid(): BackendCredentials;
  /**
   * Starts an instance with `credentials` (and, for the pool case, `poolSize` connections where the adapter
   * has a pool). Rejects when the backend refuses: with a Connect error, or an error whose `cause` chain
   * holds one.
   */
  start(credentials: BackendCredentials, opts?: { readonly poolSize?: number }): Promise<AuthSession>;
  /**
   * Changes the secret in the server, as an operator rotating it would, so that connections opened with
   * the old one stop working (killed, or failing their next re-authentication); `valid()` then returns
   * the new secret.
   */
  rotate(): Promise<void>;
  /** Whether `poolSize` gives an instance that many connections; otherwise the suite starts 5 instances. */
  readonly pooled: boolean;
  /** Authenticated connections the server holds for `user` (CLIENT LIST, pg_stat_activity, …). */
  sessions?(user: string): Promise<number>;
  /** Everything logged so far (adapter, proxy, plugin processes): no secret may appear in it. */
  logs?(): string;
  /** How long after {@link rotate} open connections may keep working (e.g. Kafka re-authentication). Default 15 s. */
  readonly rotationTimeoutMs?: number;
}

// Connect codes (numbers as in @connectrpc/connect's Code); @prism/testing does not depend on the SDK.
const INVALID_ARGUMENT = 3;
const UNAUTHENTICATED = 16;
const CODE_NAMES: Record<number, string> = {
  3: 'INVALID_ARGUMENT',
  14: 'UNAVAILABLE',
  16: 'UNAUTHENTICATED',
};

/**
 * The Connect code of a failure: the first numeric `code` on the error or its `cause` chain. A
 * `PluginConfigError` (what `instantiatePlugin` throws for a config its schema rejects) counts as
 * INVALID_ARGUMENT, which is what plugin hosts answer for it.
 */
export function connectCodeOf(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && code >= 1 && code <= 16) return code;
    if ((e as { name?: unknown }).name === 'PluginConfigError') return INVALID_ARGUMENT;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const describeFailure = (err: unknown) =>
  `${CODE_NAMES[connectCodeOf(err) ?? -1] ?? `code ${connectCodeOf(err)}`}: ${(err as Error)?.message ?? String(err)}`;

/** Resolves with the failure of `p` (fails the test when it succeeds, closing what it started). */
async function failureOf(p: Promise<AuthSession>): Promise<unknown> {
  return p.then(
    async (session) => {
      await session.close();
      throw new Error('expected the start to fail, but it succeeded');
    },
    (err: unknown) => err,
  );
}

/** Every string of every error in a cause chain, for secret checks. */
function errorText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    parts.push(String((e as Error).message ?? e), String((e as Error).stack ?? ''));
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

const randomSecret = (tag: string) => `${tag}-${randomBytes(6).toString('hex')}`;

/**
 * Registers the authentication suite for one backend in one plugin mode:
 * valid credentials → ok; wrong password or unknown user → UNAUTHENTICATED (the message names the user,
 * never the password); missing password → INVALID_ARGUMENT; a pool of ≥ 5 connections all authenticated
 * under ≥ 10 concurrent operations; rotated secret → calls fail UNAUTHENTICATED (promptly, not hanging),
 * then an instance started with the new secret works; and no secret ever appears in the logs.
 */
export function describeAuthenticationSuite(name: string, factory: AuthSuiteFactory): void {
  const secrets = new Set<string>();
  const remember = (c: BackendCredentials) => {
    if (c.password) secrets.add(c.password);
    return c;
  };
  const expectNoSecret = (text: string) => {
    for (const s of secrets)
      expect(text.includes(s) ? `secret "${s}" appears in:\n${text}` : 'no secret').toBe('no secret');
  };

  describe(`${name} authentication`, () => {
    it('starts with valid credentials and serves calls as that user', async () => {
      const creds = remember(factory.valid());
      const session = await factory.start(creds);
      try {
        await session.op(0);
        if (factory.sessions) expect(await factory.sessions(creds.user)).toBeGreaterThanOrEqual(1);
      } finally {
        await session.close();
      }
    });

    it('rejects a wrong password with UNAUTHENTICATED naming the user, never the password', async () => {
      const valid = remember(factory.valid());
      const wrong = remember({ user: valid.user, password: randomSecret('wrong') });
      const err = await failureOf(factory.start(wrong));
      expect(describeFailure(err)).toMatch(/^UNAUTHENTICATED: /);
      expect((err as Error).message).toContain(valid.user);
      expectNoSecret(errorText(err));
    });

    it('rejects an unknown user with UNAUTHENTICATED', async () => {
      const valid = remember(factory.valid());
      const err = await failureOf(
        factory.start({ user: `nobody${randomBytes(3).toString('hex')}`, password: valid.password }),
      );
      expect(describeFailure(err)).toMatch(/^UNAUTHENTICATED: /);
      expectNoSecret(errorText(err));
    });

    it('rejects missing credentials (a user without its password) with INVALID_ARGUMENT', async () => {
      const err = await failureOf(factory.start({ user: factory.valid().user }));
      expect(describeFailure(err)).toMatch(/^INVALID_ARGUMENT: /);
    });

    it('authenticates every connection of a pool of 5 under 10+ concurrent operations', async () => {
      const creds = remember(factory.valid());
      const sessions = factory.pooled
        ? [await factory.start(creds, { poolSize: 5 })]
        : await Promise.all(Array.from({ length: 5 }, () => factory.start(creds)));
      try {
        const ops = Array.from({ length: 20 }, (_, i) =>
          (sessions[i % sessions.length] as AuthSession).op(i),
        );
        const results = await Promise.allSettled(ops);
        expect(
          results
            .filter((r) => r.status === 'rejected')
            .map((r) => describeFailure((r as PromiseRejectedResult).reason)),
        ).toEqual([]);
        if (factory.sessions) expect(await factory.sessions(creds.user)).toBeGreaterThanOrEqual(5);
      } finally {
        await Promise.all(sessions.map((s) => s.close()));
      }
    });

    it('fails calls with UNAUTHENTICATED once the secret is rotated, and works again with the new secret', async () => {
      const old = remember(factory.valid());
      const session = await factory.start(old);
      let renewed: AuthSession | undefined;
      try {
        await session.op(0);
        await factory.rotate();
        const rotated = remember(factory.valid());
        expect(rotated.password).not.toBe(old.password);
        // Open connections may serve until they must log in again; then every call is refused.
        const deadline = Date.now() + (factory.rotationTimeoutMs ?? 15_000);
        let last: unknown = 'no call failed';
        for (let i = 1; ; i++) {
          last = await session.op(i).then(
            () => 'ok',
            (err: unknown) => err,
          );
          if (connectCodeOf(last) === UNAUTHENTICATED) break;
          if (Date.now() > deadline)
            throw new Error(
              `calls still not UNAUTHENTICATED after rotation; last: ${last === 'ok' ? 'ok' : describeFailure(last)}`,
            );
          await new Promise((r) => setTimeout(r, 100));
        }
        expectNoSecret(errorText(last));
        // Refused promptly, not after a hanging call.
        const t0 = Date.now();
        const again = await session.op(-1).then(
          () => 'ok',
          (err: unknown) => err,
        );
        expect(again === 'ok' ? 'ok' : describeFailure(again)).toMatch(/^UNAUTHENTICATED: /);
        expect(Date.now() - t0).toBeLessThan(5000);

        renewed = await factory.start(rotated);
        await renewed.op(0);
      } finally {
        await session.close();
        await renewed?.close();
      }
    });

    it('writes no secret to the logs', () => {
      if (!factory.logs) return;
      const logs = factory.logs();
      expect(secrets.size).toBeGreaterThan(0);
      expectNoSecret(logs);
    });
  });
}

/** A log sink for tests: pass `stream` to the logger (e.g. `createLogger({ stream })`), read `text()`. */
export function captureLogs(): { readonly stream: { write(line: string): void }; text(): string } {
  const lines: string[] = [];
  return { stream: { write: (line) => void lines.push(line) }, text: () => lines.join('') };
}
