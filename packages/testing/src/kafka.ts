import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { ensureMavenLibs, type MavenServer, mavenPomPath, mavenVersion, runCommand } from './maven.js';
import { freePort } from './ports.js';
import { makeTempDir, removeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

// Apache Kafka 4.x in KRaft mode for tests: the broker jars come from Maven Central (scripts/kafka/pom.xml,
// cached under ~/.cache/prism/kafka-<version>/libs), the storage is formatted with kafka.tools.StorageTool and
// one combined broker+controller node runs kafka.Kafka on free 127.0.0.1 ports.

/** Options for {@link startKafka}. */
export interface StartKafkaOptions {
  /** Use this client (PLAINTEXT) port instead of a free one. */
  readonly port?: number;
  /** `num.partitions`: partitions of auto-created topics. Default 1. */
  readonly defaultPartitions?: number;
  /** JVM max heap in MB. Default 512. */
  readonly heapMb?: number;
  /** Readiness deadline in ms. Default 90000 (the JVM is slow on a busy 2-core machine). */
  readonly readyTimeoutMs?: number;
  /**
   * Serve clients on a SASL_PLAINTEXT listener with SCRAM-SHA-256 for this user (created when the storage is
   * formatted). Admin tools and the readiness probe then use a second, PLAINTEXT listener (`adminBootstrap`).
   */
  readonly sasl?: KafkaSaslOptions;
}

/** The SCRAM user of a SASL broker (see {@link StartKafkaOptions.sasl}). */
export interface KafkaSaslOptions {
  readonly user: string;
  readonly password: string;
  /**
   * `connections.max.reauth.ms`: clients must re-authenticate this often, so a changed password reaches
   * connections that are already open. Default 3000.
   */
  readonly reauthMs?: number;
}

/** A running single-node KRaft Kafka broker. `url` is `kafka://127.0.0.1:<port>`; clients use `bootstrap`. */
export interface KafkaTestServer extends TestServer {
  /** `127.0.0.1:<port>`, the bootstrap server list for clients. */
  readonly bootstrap: string;
  /** The KRaft controller listener port. */
  readonly controllerPort: number;
  /** The cluster id the storage was formatted with. */
  readonly clusterId: string;
  /** Where the admin tools connect: `bootstrap`, or the PLAINTEXT listener of a SASL broker. */
  readonly adminBootstrap: string;
  /** The SCRAM user of a SASL broker (mechanism SCRAM-SHA-256). */
  readonly sasl: { readonly mechanism: 'scram-sha-256'; readonly user: string } | undefined;
  /** Creates `topic` with `partitions` partitions using the broker's own admin tool (TopicCommand). */
  createTopic(topic: string, partitions?: number): Promise<void>;
  /**
   * Changes the SCRAM user's password (ConfigCommand, as an operator rotates it). Open connections fail at
   * their next re-authentication (`reauthMs`); new ones need the new password.
   */
  setPassword(password: string): Promise<void>;
}

const KAFKA: MavenServer = {
  dir: 'kafka',
  versionProperty: 'kafka.version',
  envPrefix: 'PRISM_KAFKA',
  cacheName: 'kafka',
  mainJar: (v) => `kafka_2.13-${v}.jar`,
};

/** Finds scripts/kafka/pom.xml: $PRISM_KAFKA_POM, else walking up from the working directory. */
export const kafkaPomPath = (): string => mavenPomPath(KAFKA);

/** The Kafka version pinned in the pom (`<kafka.version>`). */
export const kafkaVersion = (pom = kafkaPomPath()): string => mavenVersion(KAFKA, pom);

/** Directory holding every jar the broker needs ($PRISM_KAFKA_LIBS, or the Maven-fetched cache). */
export const ensureKafkaLibs = (): Promise<string> => ensureMavenLibs(KAFKA);

// Warnings and errors only (so a failed start's error is in the log tail the harness reports), plus the
// one INFO line that says the server is up.
const LOG4J2 = `rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.raft.name=kafka.server.KafkaRaftServer
logger.raft.level=INFO
`;

/** Listener layout of one node: the client port, and for SASL the PLAINTEXT port admin tools use. */
interface Listeners {
  readonly port: number;
  readonly controllerPort: number;
  /** Set for a SASL broker: the clients' port speaks SASL_PLAINTEXT, this one PLAINTEXT. */
  readonly internalPort?: number;
  readonly reauthMs?: number;
}

/** KRaft server.properties for one combined broker+controller node. */
function serverProperties(dir: string, l: Listeners, partitions: number): string {
  const client = l.internalPort === undefined ? 'PLAINTEXT' : 'SASL_PLAINTEXT';
  const internal = l.internalPort === undefined ? '' : `,PLAINTEXT://127.0.0.1:${l.internalPort}`;
  const sasl =
    l.internalPort === undefined
      ? []
      : [
          // Only the clients' listener authenticates; the broker talks to itself over PLAINTEXT.
          'sasl.enabled.mechanisms=SCRAM-SHA-256',
          'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
          `connections.max.reauth.ms=${l.reauthMs ?? 3000}`,
        ];
  return `${[
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${l.controllerPort}`,
    `listeners=${client}://127.0.0.1:${l.port}${internal},CONTROLLER://127.0.0.1:${l.controllerPort}`,
    `advertised.listeners=${client}://127.0.0.1:${l.port}${internal}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${l.internalPort === undefined ? '' : ',SASL_PLAINTEXT:SASL_PLAINTEXT'}`,
    ...sasl,
    `log.dirs=${join(dir, 'data')}`,
    `num.partitions=${partitions}`,
    'auto.create.topics.enable=true',
    // A single node: every internal topic has one replica; few partitions keep startup and first use fast.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // Tests join and leave groups constantly: no initial delay, and short session timeouts allowed.
    'group.initial.rebalance.delay.ms=0',
    'group.min.session.timeout.ms=1000',
  ].join('\n')}\n`;
}

/** A SCRAM credential as StorageTool and ConfigCommand take it (their parsers differ on quoting: none used). */
function scramCredential(password: string, user?: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(password))
    throw new Error('a Kafka test password may use letters, digits, "_", "." and "-" only');
  return `SCRAM-SHA-256=[${user === undefined ? '' : `name=${user},`}password=${password}]`;
}

function javaArgs(
  libs: string,
  dir: string,
  heapMb: number,
  main: string,
  args: readonly string[],
): string[] {
  return [
    '-Xms64m',
    `-Xmx${heapMb}m`,
    // Two shared cores: a light GC and C1-only JIT start the broker faster and keep it cheap.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
    '-cp',
    `${libs}/*`,
    main,
    ...args,
  ];
}

/** A Kafka UUID (cluster id): 16 random bytes, base64url without padding. */
export function randomKafkaUuid(): string {
  // Like Kafka's Uuid.randomUuid: an id starting with '-' would be read as an option by the CLI tools.
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** What a broker's Metadata answer says about the cluster. */
export interface KafkaMetadataSummary {
  /** Live (unfenced) brokers the answer lists. */
  readonly brokers: number;
  readonly clusterId: string | null;
}

/** Parses a Metadata v4 response frame (size prefix included); undefined while incomplete. */
function parseMetadataV4(data: Buffer): KafkaMetadataSummary | undefined {
  if (data.length < 4 || data.length < 4 + data.readInt32BE(0)) return undefined;
  // size, correlation_id, throttle_time_ms, brokers[node_id, host, port, rack], cluster_id, ...
  if (data.readInt32BE(4) !== 1) throw new Error('Metadata response with an unexpected correlation id');
  const brokers = data.readInt32BE(12);
  let o = 16;
  const str = (): string | null => {
    const len = data.readInt16BE(o);
    o += 2;
    if (len < 0) return null;
    o += len;
    return data.toString('utf8', o - len, o);
  };
  for (let i = 0; i < brokers; i++) {
    o += 4; // node_id
    str(); // host
    o += 4; // port
    str(); // rack
  }
  return { brokers, clusterId: str() };
}

/**
 * Sends a Metadata v4 request over the Kafka protocol (Kafka 4 removed v0-v3) and resolves with the live
 * broker count and cluster id. Rejects when nothing answers like a Kafka broker within `timeoutMs`.
 */
export function kafkaMetadata(host: string, port: number, timeoutMs = 1000): Promise<KafkaMetadataSummary> {
  const clientId = Buffer.from('prism-testing');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 1);
  let o = body.writeInt16BE(3, 0); // api_key Metadata
  o = body.writeInt16BE(4, o); // api_version
  o = body.writeInt32BE(1, o); // correlation_id
  o = body.writeInt16BE(clientId.length, o);
  o += clientId.copy(body, o);
  o = body.writeInt32BE(0, o); // topics: empty array = none
  body.writeInt8(0, o); // allow_auto_topic_creation = false
  const frame = Buffer.concat([Buffer.alloc(4), body]);
  frame.writeInt32BE(body.length, 0);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let data = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`no Metadata answer from ${host}:${port}`)));
    socket.once('error', fail);
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      try {
        const summary = parseMetadataV4(data);
        if (!summary) return;
        socket.destroy();
        resolve(summary);
      } catch (err) {
        fail(err as Error);
      }
    });
    socket.once('end', () => fail(new Error('connection closed before a Metadata response')));
    socket.connect(port, host, () => socket.write(frame));
  });
}

/**
 * True when the broker at host:port lists at least one live broker (it has joined its own KRaft quorum, is
 * unfenced and serves clients) and, when given, belongs to cluster `clusterId` (not some other process).
 */
export async function probeKafkaMetadata(host: string, port: number, clusterId?: string): Promise<boolean> {
  const meta = await kafkaMetadata(host, port);
  return meta.brokers > 0 && (clusterId === undefined || meta.clusterId === clusterId);
}

/**
 * Starts Apache Kafka 4.x (KRaft, one combined broker+controller node) on free 127.0.0.1 ports with its data
 * in a temp dir, and resolves once the broker answers Metadata with itself as a live broker. Stopping is by
 * PID (SIGTERM, then SIGKILL); `logs()` has the broker's output, also included in the error when start fails.
 */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaTestServer> {
  const libs = await ensureKafkaLibs();
  const dir = makeTempDir('kafka');
  const heapMb = opts.heapMb ?? 512;
  const partitions = opts.defaultPartitions ?? 1;
  const controllerPort = await freePort();
  const internalPort = opts.sasl ? await freePort() : undefined;
  const listeners = (port: number): Listeners => ({
    port,
    controllerPort,
    ...(internalPort === undefined ? {} : { internalPort, reauthMs: opts.sasl?.reauthMs ?? 3000 }),
  });
  const clusterId = randomKafkaUuid();
  const propsFile = join(dir, 'server.properties');
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
  try {
    // The storage format only reads node id, roles, quorum and log dirs, so any client port will do here.
    writeFileSync(propsFile, serverProperties(dir, listeners(opts.port ?? controllerPort + 1), partitions));
    const scram = opts.sasl ? ['--add-scram', scramCredential(opts.sasl.password, opts.sasl.user)] : [];
    await runCommand(
      'java',
      javaArgs(libs, dir, 256, 'kafka.tools.StorageTool', [
        'format',
        '-t',
        clusterId,
        '-c',
        propsFile,
        ...scram,
      ]),
      120_000,
    );
  } catch (err) {
    removeTempDir(dir);
    throw err;
  }
  const server = await startManagedServer(
    {
      kind: 'kafka',
      dir,
      command: (port) => {
        writeFileSync(propsFile, serverProperties(dir, listeners(port), partitions));
        return { cmd: 'java', args: javaArgs(libs, dir, heapMb, 'kafka.Kafka', [propsFile]) };
      },
      // A SASL listener wants a handshake first: probe the PLAINTEXT one.
      probe: (port) => probeKafkaMetadata('127.0.0.1', internalPort ?? port, clusterId),
      url: (port) => `kafka://127.0.0.1:${port}`,
      readyTimeoutMs: opts.readyTimeoutMs ?? 90_000,
    },
    opts.port,
  );
  const bootstrap = `127.0.0.1:${server.port}`;
  const adminBootstrap = internalPort === undefined ? bootstrap : `127.0.0.1:${internalPort}`;
  const user = opts.sasl?.user;
  return Object.assign(server, {
    bootstrap,
    adminBootstrap,
    controllerPort,
    clusterId,
    sasl: user === undefined ? undefined : { mechanism: 'scram-sha-256' as const, user },
    createTopic: (topic: string, n = 1) => createKafkaTopic(adminBootstrap, topic, n),
    setPassword: async (password: string) => {
      if (user === undefined) throw new Error('setPassword needs a broker started with { sasl }');
      await runKafkaTool('kafka.admin.ConfigCommand', [
        '--bootstrap-server',
        adminBootstrap,
        '--alter',
        '--add-config',
        scramCredential(password),
        '--entity-type',
        'users',
        '--entity-name',
        user,
      ]);
    },
  });
}

/**
 * Runs one of Kafka's command-line tools (e.g. `org.apache.kafka.tools.TopicCommand`) from the broker jars
 * and resolves with its stdout.
 */
export async function runKafkaTool(mainClass: string, args: readonly string[]): Promise<string> {
  const libs = await ensureKafkaLibs();
  const dir = makeTempDir('kafka-tool');
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
  try {
    return await runCommand('java', javaArgs(libs, dir, 128, mainClass, args), 120_000);
  } finally {
    removeTempDir(dir);
  }
}

/**
 * Creates `topic` with `partitions` partitions (replication factor 1) with Kafka's TopicCommand, waiting for
 * the creation to complete; an existing topic is left as it is.
 */
export async function createKafkaTopic(bootstrap: string, topic: string, partitions = 1): Promise<void> {
  await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrap,
    '--create',
    '--if-not-exists',
    '--topic',
    topic,
    '--partitions',
    String(partitions),
    '--replication-factor',
    '1',
  ]);
}

/** Names of all non-internal topics, as the broker's TopicCommand lists them. */
export async function listKafkaTopics(bootstrap: string): Promise<string[]> {
  const out = await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrap,
    '--list',
  ]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('__'));
}

/** Partition count of `topic` (TopicCommand --describe), or undefined when the topic does not exist. */
export async function kafkaTopicPartitionCount(
  bootstrap: string,
  topic: string,
): Promise<number | undefined> {
  const out = await runKafkaTool('org.apache.kafka.tools.TopicCommand', [
    '--bootstrap-server',
    bootstrap,
    '--describe',
    '--if-exists',
    '--topic',
    topic,
  ]);
  const match = /PartitionCount:\s*(\d+)/.exec(out);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** The end offset (records written, for a topic nothing deleted from) of each partition of `topic`. */
export async function kafkaPartitionEndOffsets(
  bootstrap: string,
  topic: string,
): Promise<Map<number, number>> {
  const out = await runKafkaTool('org.apache.kafka.tools.GetOffsetShell', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    topic,
  ]);
  const offsets = new Map<number, number>();
  // One line per partition: `<topic>:<partition>:<offset>`.
  for (const line of out.split('\n')) {
    const m = /:(\d+):(\d+)$/.exec(line.trim());
    if (m) offsets.set(Number(m[1]), Number(m[2]));
  }
  return offsets;
}
