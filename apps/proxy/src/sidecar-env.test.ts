// biome-ignore-all lint/suspicious/noTemplateCurlyInString: YAML with ${env:} references
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KeyValueBasic } from '@prism/keyvalue-basic';
import { type RedisTestServer, startRedis } from '@prism/testing';
import type { SupervisedPlugin } from './supervisor.js';
import { startTestProxy, type TestProxy } from './test-support.js';

// A sidecar gets a minimal environment plus what its own namespace's config references: a secret the
// proxy holds for another namespace never reaches it. Checked in the real process's /proc/<pid>/environ.

const ctx = { signal: new AbortController().signal };
const environOf = (pid: number): Map<string, string> =>
  new Map(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as [string, string]),
  );

const vars = {
  PRISM_TEST_OTHER_PASSWORD: 'other-namespace-secret',
  PRISM_TEST_SIDE_URL: '',
  PRISM_TEST_UNRELATED: 'not-for-plugins',
  LC_TIME: 'C',
};

describe('sidecar environment', () => {
  let locked: RedisTestServer;
  let open: RedisTestServer;
  let test: TestProxy;
  beforeAll(async () => {
    [locked, open] = await Promise.all([
      startRedis({ password: vars.PRISM_TEST_OTHER_PASSWORD }),
      startRedis(),
    ]);
    Object.assign(process.env, vars, { PRISM_TEST_SIDE_URL: open.url });
    test = await startTestProxy(`namespaces:
  - name: other
    pattern: keyvalue
    backend: { type: redis, config: { url: "${locked.url}", password: "\${env:PRISM_TEST_OTHER_PASSWORD}" } }
  - name: side
    pattern: keyvalue
    backend: { type: redis, plugin: { mode: sidecar }, config: { url: "\${env:PRISM_TEST_SIDE_URL}" } }
`);
  });
  afterAll(async () => {
    await test?.stop();
    for (const name of Object.keys(vars)) delete process.env[name];
    await Promise.all([locked?.dispose(), open?.dispose()]);
  });

  it("holds what its own config references and the base variables, not the proxy's other secrets", async () => {
    // Both namespaces serve (the other one really logs in with its secret).
    for (const namespace of ['other', 'side'])
      await test
        .client(namespace)
        .get(KeyValueBasic)
        ?.set({ namespace, key: 'k', value: new Uint8Array([1]) } as never, ctx);
    expect(await open.command('EXISTS', 'side:k')).toBe('1');

    const pid = (test.proxy.table.get('side')!.handle as SupervisedPlugin).pid as number;
    const env = environOf(pid);
    expect(env.get('PRISM_TEST_SIDE_URL')).toBe(open.url);
    expect(env.get('PATH')).toBe(process.env.PATH);
    expect(env.get('LC_TIME')).toBe('C');
    expect(env.has('PRISM_TEST_OTHER_PASSWORD')).toBe(false);
    expect(env.has('PRISM_TEST_UNRELATED')).toBe(false);
    expect([...env.values()].some((v) => v.includes(vars.PRISM_TEST_OTHER_PASSWORD))).toBe(false);
    // Nothing beyond the base set, the LC_* locale and its own reference.
    const allowed =
      /^(PATH|HOME|TMPDIR|LANG|LANGUAGE|TZ|NODE_OPTIONS|NODE_EXTRA_CA_CERTS|NODE_PATH|NODE_V8_COVERAGE|SSL_CERT_FILE|SSL_CERT_DIR|PRISM_LOG_LEVEL|LC_\w+|PRISM_TEST_SIDE_URL)$/;
    expect([...env.keys()].filter((k) => !allowed.test(k))).toEqual([]);
  });
});
