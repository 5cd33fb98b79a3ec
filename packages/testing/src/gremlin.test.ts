import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  ensureGremlinLibs,
  type GremlinTestServer,
  gremlinServerVersion,
  probeGremlin,
  startGremlinServer,
} from './gremlin.js';
import { isListening } from './ports.js';
import { isAlive } from './process.js';

describe('startGremlinServer (TinkerPop Gremlin Server, TinkerGraph)', () => {
  let gremlin: GremlinTestServer;
  let other: GremlinTestServer | undefined;

  beforeAll(async () => {
    gremlin = await startGremlinServer();
  }, 180_000);

  afterAll(async () => {
    await gremlin?.dispose();
    await other?.dispose();
  }, 60_000);

  it('fetched the pinned 3.7 server and TinkerGraph jars', async () => {
    const libs = await ensureGremlinLibs();
    const version = gremlinServerVersion();
    expect(version).toMatch(/^3\.7\./);
    for (const jar of [`gremlin-server-${version}.jar`, `tinkergraph-gremlin-${version}.jar`]) {
      expect(existsSync(join(libs, jar))).toBe(true);
    }
  });

  it('serves WebSocket clients on ws://127.0.0.1:<port>/gremlin with its config in the temp dir', () => {
    expect(gremlin.url).toBe(`ws://127.0.0.1:${gremlin.port}/gremlin`);
    const yaml = readFileSync(join(gremlin.dir, 'server.yaml'), 'utf8');
    expect(yaml).toContain(`port: ${gremlin.port}`);
    expect(yaml).toContain(join(gremlin.dir, 'tinkergraph.properties'));
  });

  it('keeps client-given string ids and evaluates scripts with bindings', async () => {
    await gremlin.eval("g.addV('person').property(T.id, vid).property('name', n).iterate()", {
      vid: 'alice',
      n: 'Alice',
    });
    expect(await gremlin.eval('g.V(vid).values(k)', { vid: 'alice', k: 'name' })).toEqual(
      expect.objectContaining({ '@value': ['Alice'] }),
    );
  });

  it('offers a read-only traversal source that rejects mutations on the server', async () => {
    await expect(gremlin.eval("gro.addV('x').iterate()")).rejects.toThrow(
      /ReadOnlyStrategy|read-only|mutat/i,
    );
    expect(JSON.stringify(await gremlin.eval('gro.V().count()'))).toContain('"@value":1');
  });

  it('gives every server its own graph', async () => {
    other = await startGremlinServer();
    expect(other.port).not.toBe(gremlin.port);
    expect(JSON.stringify(await other.eval('g.V().count()'))).toContain('"@value":0');
  }, 120_000);

  it('stops by PID and restarts on the same port with the graph kept', async () => {
    const pid = gremlin.pid as number;
    await gremlin.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await isListening('127.0.0.1', gremlin.port)).toBe(false);
    expect(await probeGremlin(gremlin.port)).toBe(false);
    await gremlin.restart();
    expect(JSON.stringify(await gremlin.eval("g.V('alice').values('name')"))).toContain('Alice');
  }, 120_000);
});
