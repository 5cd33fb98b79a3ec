import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMavenLibs, type MavenServer, mavenPomPath, mavenVersion } from './maven.js';
import { makeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

// Apache TinkerPop Gremlin Server with an in-memory TinkerGraph for tests: the jars come from Maven Central
// (scripts/gremlin/pom.xml, cached under ~/.cache/prism/gremlin-server-<version>/libs); server.yaml, the graph
// properties and the init script are written into the server's temp dir, so every server has its own graph.

/** Options for {@link startGremlinServer}. */
export interface StartGremlinOptions {
  /** Use this port instead of a free one. */
  readonly port?: number;
  /** JVM max heap in MB. Default 384. */
  readonly heapMb?: number;
  /** Readiness deadline in ms. Default 90000 (the JVM is slow on a busy 2-core machine). */
  readonly readyTimeoutMs?: number;
}

/**
 * A running Gremlin Server. `url` is `ws://127.0.0.1:<port>/gremlin`. Traversal sources: `g` (read/write)
 * and `gro` (the same graph with ReadOnlyStrategy). The graph is saved to the temp dir on a graceful stop, so
 * `restart()` keeps the data.
 */
export interface GremlinTestServer extends TestServer {
  /** The read/write traversal source name (`g`). */
  readonly traversalSource: string;
  /** A traversal source on the same graph that rejects mutations server-side (`gro`). */
  readonly readOnlyTraversalSource: string;
  /**
   * Evaluates a Gremlin-Groovy script over the server's HTTP endpoint (bindings are passed as such) and
   * resolves with the GraphSON 3 `result.data` value, for checks that bypass any client library.
   */
  eval(gremlin: string, bindings?: Readonly<Record<string, unknown>>): Promise<unknown>;
}

const GREMLIN: MavenServer = {
  dir: 'gremlin',
  versionProperty: 'tinkerpop.version',
  envPrefix: 'PRISM_GREMLIN',
  cacheName: 'gremlin-server',
  mainJar: (v) => `gremlin-server-${v}.jar`,
};

/** Finds scripts/gremlin/pom.xml: $PRISM_GREMLIN_POM, else walking up from the working directory. */
export const gremlinPomPath = (): string => mavenPomPath(GREMLIN);

/** The TinkerPop version pinned in the pom (`<tinkerpop.version>`). */
export const gremlinServerVersion = (pom = gremlinPomPath()): string => mavenVersion(GREMLIN, pom);

/** Directory holding every jar Gremlin Server needs ($PRISM_GREMLIN_LIBS, or the Maven-fetched cache). */
export const ensureGremlinLibs = (): Promise<string> => ensureMavenLibs(GREMLIN);

/** server.yaml for one server. (Gremlin Server 3.7 itself logs "Failed to find field ... Settings.plugins"
 * at every start: its Settings parser declares a legacy top-level `plugins` property; the scriptEngines
 * block below is the 3.7 distribution's layout.) */
function serverYaml(dir: string, port: number): string {
  return `host: 127.0.0.1
port: ${port}
evaluationTimeout: 30000
# One worker: TinkerGraph checks an id is free and inserts without a lock, so two concurrent addV with one id
# could both succeed on more workers. Transactional graphs (JanusGraph, Neptune) need no such setting.
gremlinPool: 1
# WebSocket for clients, plus HTTP POST /gremlin for the readiness probe and eval().
channelizer: org.apache.tinkerpop.gremlin.server.channel.WsAndHttpChannelizer
graphs: { graph: ${join(dir, 'tinkergraph.properties')} }
scriptEngines:
  gremlin-groovy:
    plugins:
      org.apache.tinkerpop.gremlin.server.jsr223.GremlinServerGremlinPlugin: {}
      org.apache.tinkerpop.gremlin.tinkergraph.jsr223.TinkerGraphGremlinPlugin: {}
      org.apache.tinkerpop.gremlin.jsr223.ScriptFileGremlinPlugin: { files: [${join(dir, 'init.groovy')}] }
serializers:
  - { className: org.apache.tinkerpop.gremlin.util.ser.GraphBinaryMessageSerializerV1 }
  - { className: org.apache.tinkerpop.gremlin.util.ser.GraphSONMessageSerializerV3, config: { ioRegistries: [org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerIoRegistryV3] } }
`;
}

// ANY id managers keep the ids clients give (strings); the graph is written to graphLocation when the server
// closes it (graceful stop) and read back at start, so restart() keeps the data. GraphSON, not gryo: gryo
// cannot read a saved graph back on Java 17 (kryo reflects into java.base).
function graphProperties(dir: string): string {
  return `gremlin.graph=org.apache.tinkerpop.gremlin.tinkergraph.structure.TinkerGraph
gremlin.tinkergraph.vertexIdManager=ANY
gremlin.tinkergraph.edgeIdManager=ANY
gremlin.tinkergraph.graphLocation=${join(dir, 'graph.json')}
gremlin.tinkergraph.graphFormat=graphson
`;
}

const INIT_GROOVY = `def globals = [:]
globals << [g : traversal().withEmbedded(graph)]
globals << [gro : traversal().withEmbedded(graph).withStrategies(ReadOnlyStrategy.instance())]
`;

/** POSTs a script to the HTTP endpoint and returns GraphSON `result.data`; throws on a non-200 answer. */
export async function gremlinHttpEval(
  port: number,
  gremlin: string,
  bindings: Readonly<Record<string, unknown>> = {},
  timeoutMs = 10_000,
): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}/gremlin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ gremlin, bindings }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`Gremlin Server answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { result: { data: unknown } }).result.data;
}

/** True when a Gremlin Server answers a script on `port` with the expected value. */
export async function probeGremlin(port: number): Promise<boolean> {
  try {
    const data = await gremlinHttpEval(port, "g.inject('prism-ready')", {}, 2000);
    return JSON.stringify(data).includes('prism-ready');
  } catch {
    return false;
  }
}

/**
 * Starts Gremlin Server 3.7 (TinkerGraph) on a free 127.0.0.1 port with its config in a temp dir, and
 * resolves once it evaluates a script. Stopping is by PID (SIGTERM, then SIGKILL); `logs()` has its output.
 */
export async function startGremlinServer(opts: StartGremlinOptions = {}): Promise<GremlinTestServer> {
  const libs = await ensureGremlinLibs();
  const dir = makeTempDir('gremlin');
  writeFileSync(join(dir, 'tinkergraph.properties'), graphProperties(dir));
  writeFileSync(join(dir, 'init.groovy'), INIT_GROOVY);
  const yaml = join(dir, 'server.yaml');
  const server = await startManagedServer(
    {
      kind: 'gremlin',
      dir,
      command: (port) => {
        writeFileSync(yaml, serverYaml(dir, port));
        return {
          cmd: 'java',
          args: [
            '-Xms64m',
            `-Xmx${opts.heapMb ?? 384}m`,
            // Two shared cores: a light GC and C1-only JIT start the server faster and keep it cheap.
            '-XX:+UseSerialGC',
            '-XX:TieredStopAtLevel=1',
            '-Djava.awt.headless=true',
            '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
            '-Dorg.slf4j.simpleLogger.log.org.apache.tinkerpop.gremlin.server.GremlinServer=info',
            '-cp',
            `${libs}/*`,
            'org.apache.tinkerpop.gremlin.server.GremlinServer',
            yaml,
          ],
        };
      },
      probe: (port) => probeGremlin(port),
      url: (port) => `ws://127.0.0.1:${port}/gremlin`,
      readyTimeoutMs: opts.readyTimeoutMs ?? 90_000,
    },
    opts.port,
  );
  return Object.assign(server, {
    traversalSource: 'g',
    readOnlyTraversalSource: 'gro',
    eval: (gremlin: string, bindings?: Readonly<Record<string, unknown>>) =>
      gremlinHttpEval(server.port, gremlin, bindings),
  });
}
