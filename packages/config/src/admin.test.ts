import { describe, expect, it } from '@jest/globals';
import { catalog, problemAt, problemsOf } from './catalog.fixture.js';
import { parseConfig } from './parse.js';

const parse = (yaml: string) => parseConfig(yaml, { file: 'prism.yaml', catalog, env: {} });
const jwt = `  auth:
    providers:
      - { name: corp, type: jwt, issuer: "https://login.example.com/", audience: prism }
`;

describe('proxy.admin', () => {
  it('is absent unless configured: no admin listener', () => {
    expect(parse('').proxy.admin).toBeUndefined();
    expect(parse('proxy:\n  admin:\n').proxy.admin).toBeUndefined();
  });

  it.each([
    ['{ listen: "127.0.0.1:8981" }', '127.0.0.1', 8981],
    ['{ listen: "[::1]:9000" }', '::1', 9000],
    ['{ listen: "localhost:0" }', 'localhost', 0],
    // A bare port (or ":port") binds loopback for the admin API, unlike the client port.
    ['{ listen: 8999 }', '127.0.0.1', 8999],
    ['{ listen: ":8999" }', '127.0.0.1', 8999],
    ['{}', '127.0.0.1', 8981],
  ])('admin: %s listens on %s:%d', (admin, host, port) => {
    expect(parse(`proxy:\n  admin: ${admin}\n`).proxy.admin).toEqual({ listen: { host, port } });
  });

  it('uses the listen syntax of proxy.listen and reports bad addresses at admin.listen', () => {
    const p = problemAt(problemsOf('proxy:\n  admin: { listen: "127.0.0.1:70000" }\n'), 'proxy.admin.listen');
    expect(p.line).toBe(2);
    expect(p.message).toMatch(/host:port/);
  });

  it('rejects unknown keys and a non-map', () => {
    expect(problemAt(problemsOf('proxy:\n  admin: { lisen: 1 }\n'), 'proxy.admin.lisen').message).toMatch(
      /did you mean "listen"/,
    );
    expect(problemAt(problemsOf('proxy:\n  admin: "127.0.0.1:8981"\n'), 'proxy.admin').message).toMatch(
      /must be a map with listen/,
    );
  });

  it.each(['0.0.0.0:8981', '10.0.0.5:8981', '"[::]:8981"'])(
    'refuses %s (not loopback) without admin_token or auth',
    (listen) => {
      const p = problemAt(problemsOf(`proxy:\n  admin: { listen: ${listen} }\n`), 'proxy.admin.listen');
      expect(p.message).toMatch(/is not loopback: set proxy\.admin_token or proxy\.auth/);
      expect(p.message).toMatch(/restarts plugins/);
    },
  );

  it('accepts a non-loopback address with admin_token or with auth', () => {
    const withToken = parse('proxy:\n  admin_token: s3cret\n  admin: { listen: 0.0.0.0:8981 }\n');
    expect(withToken.proxy.admin).toEqual({ listen: { host: '0.0.0.0', port: 8981 } });
    const withAuth = parse(`proxy:\n  admin: { listen: 0.0.0.0:8981 }\n${jwt}`);
    expect(withAuth.proxy.admin?.listen.host).toBe('0.0.0.0');
  });

  it('refuses the port of proxy.listen or proxy.metrics.listen', () => {
    expect(
      problemAt(
        problemsOf('proxy:\n  listen: 0.0.0.0:9000\n  admin: { listen: 127.0.0.1:9000 }\n'),
        'proxy.admin.listen',
      ).message,
    ).toMatch(/port 9000 is already taken by proxy\.listen/);
    expect(
      problemAt(
        problemsOf('proxy:\n  metrics: { listen: "127.0.0.1:9464" }\n  admin: { listen: 127.0.0.1:9464 }\n'),
        'proxy.admin.listen',
      ).message,
    ).toMatch(/already taken by proxy\.metrics\.listen/);
    // Port 0 picks a free port each, and different hosts do not clash.
    expect(
      parse('proxy:\n  listen: 127.0.0.1:0\n  admin: { listen: 127.0.0.1:0 }\n').proxy.admin,
    ).toBeDefined();
    expect(
      parse('proxy:\n  listen: 127.0.0.2:9000\n  admin: { listen: 127.0.0.1:9000 }\n').proxy.admin,
    ).toBeDefined();
  });
});
