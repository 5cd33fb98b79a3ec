import { describe, expect, it } from '@jest/globals';
import { parseCli } from './cli.js';

const argv = (...args: string[]) => ['node', 'prism-load', ...args];

describe('prism-load command line', () => {
  it('parses every option into load options', () => {
    const { options, json, quiet } = parseCli(
      argv(
        '--target',
        'http://127.0.0.1:8980/',
        '--protocol',
        'connect',
        '--http',
        '1.1',
        '--namespace',
        'ns',
        '--op',
        'mixed',
        '--ratio',
        '0.75',
        '-c',
        '32',
        '--duration',
        '500ms',
        '--warmup',
        '2s',
        '--rps',
        '1000',
        '--value-size',
        '100',
        '--keys',
        '10',
        '--json',
        '-q',
      ),
    );
    expect(options).toMatchObject({
      target: 'http://127.0.0.1:8980',
      protocol: 'connect',
      httpVersion: '1.1',
      namespace: 'ns',
      op: 'mixed',
      ratio: 0.75,
      concurrency: 32,
      durationS: 0.5,
      warmupS: 2,
      rps: 1000,
      valueSize: 100,
      keys: 10,
    });
    expect(json).toBe(true);
    expect(quiet).toBe(true);
  });

  it('defaults to a closed-loop gRPC get', () => {
    const { options } = parseCli(argv('-t', 'http://localhost:1'));
    expect(options).toMatchObject({
      protocol: 'grpc',
      op: 'get',
      rps: undefined,
      concurrency: 16,
      durationS: 10,
    });
  });
});
