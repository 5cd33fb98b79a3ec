import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureMavenLibs, type MavenServer, mavenPomPath, mavenVersion } from './maven.js';
import { makeTempDir } from './process.js';
import { startManagedServer, type TestServer } from './server.js';

// S3Proxy (org.gaul:s3proxy, a real S3 API server over Apache jclouds) for tests, with the jclouds
// `filesystem` backend in the server's temp dir: an object `key` of bucket `b` is the file
// <dataDir>/b/key, so tests can check effects in the backend itself. The jars come from Maven Central
// (scripts/s3proxy/pom.xml, cached under ~/.cache/prism/s3proxy-<version>/libs); 2.6.0 is built for
// Java 11, so the default Java 17 runs it.

/** Options for {@link startS3Proxy}. */
export interface StartS3ProxyOptions {
  /** Use this port instead of a free one. */
  readonly port?: number;
  /** Access key id clients sign with. Default: a random `AKPRISM…` id. */
  readonly accessKeyId?: string;
  /** Secret access key. Default: random. */
  readonly secretAccessKey?: string;
  /** JVM max heap in MB. Default 256. */
  readonly heapMb?: number;
  /** Readiness deadline in ms. Default 60000 (the JVM is slow on a busy 2-core machine). */
  readonly readyTimeoutMs?: number;
}

/**
 * A running S3Proxy. `url` is the endpoint `http://127.0.0.1:<port>`; clients must use path-style
 * addressing (`forcePathStyle: true`) and sign with SigV4 (or V2) using `accessKeyId`/`secretAccessKey`
 * in `region`. Unsigned requests get 403. Data survives `restart()`.
 */
export interface S3TestServer extends TestServer {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Region to sign for (`us-east-1`). */
  readonly region: string;
  /** The jclouds filesystem basedir: bucket `b`, key `k` is the file `<dataDir>/b/k`. */
  readonly dataDir: string;
}

/** The shell script that fetches the jars, named in errors. */
const SETUP_SCRIPT = 'scripts/setup/30-s3proxy.sh';

const S3PROXY: MavenServer = {
  dir: 's3proxy',
  versionProperty: 's3proxy.version',
  envPrefix: 'PRISM_S3PROXY',
  cacheName: 's3proxy',
  mainJar: (v) => `s3proxy-${v}.jar`,
};

/** Finds scripts/s3proxy/pom.xml: $PRISM_S3PROXY_POM, else walking up from the working directory. */
export const s3ProxyPomPath = (): string => mavenPomPath(S3PROXY);

/** The S3Proxy version pinned in the pom (`<s3proxy.version>`). */
export const s3ProxyVersion = (pom = s3ProxyPomPath()): string => mavenVersion(S3PROXY, pom);

/**
 * Directory holding every jar S3Proxy needs ($PRISM_S3PROXY_LIBS, or the Maven-fetched cache
 * $PRISM_S3PROXY_HOME/s3proxy-<version>/libs), fetching it with Maven when missing; when that fails (no
 * `mvn`, no network) the error says to run scripts/setup/30-s3proxy.sh.
 */
export async function ensureS3ProxyLibs(): Promise<string> {
  const fromEnv = process.env.PRISM_S3PROXY_LIBS;
  if (fromEnv && !existsSync(fromEnv)) throw new Error(`PRISM_S3PROXY_LIBS=${fromEnv} does not exist`);
  const version = s3ProxyVersion(); // a missing pom fails here with its own message
  try {
    return await ensureMavenLibs(S3PROXY);
  } catch (err) {
    throw new Error(
      `S3Proxy ${version} jars are missing and fetching them failed; run ${SETUP_SCRIPT} ` +
        `(needs java 11+ and mvn). Cause: ${(err as Error).message}`,
    );
  }
}

function s3ProxyProperties(port: number, dataDir: string, key: string, secret: string): string {
  return `s3proxy.endpoint=http://127.0.0.1:${port}
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${key}
s3proxy.credential=${secret}
jclouds.provider=filesystem
jclouds.filesystem.basedir=${dataDir}
`;
}

// Without a config logback logs at DEBUG (every Jetty lifecycle step); warnings and S3Proxy's own INFO suffice.
const LOGBACK_XML = `<configuration>
  <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.gaul.s3proxy" level="INFO"/>
  <root level="WARN"><appender-ref ref="out"/></root>
</configuration>
`;

/**
 * True when S3Proxy on `port` answers a ListBuckets signed (AWS signature V2, the shortest to compute)
 * with these credentials with 200: the S3 handler is up and the credentials are the configured ones.
 */
export async function probeS3Proxy(
  port: number,
  accessKeyId: string,
  secretAccessKey: string,
): Promise<boolean> {
  try {
    const date = new Date().toUTCString();
    const signature = createHmac('sha1', secretAccessKey).update(`GET\n\n\n${date}\n/`).digest('base64');
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      headers: { date, authorization: `AWS ${accessKeyId}:${signature}` },
      signal: AbortSignal.timeout(2000),
    });
    const body = await res.text();
    return res.status === 200 && body.includes('ListAllMyBucketsResult');
  } catch {
    return false;
  }
}

/**
 * Starts S3Proxy 2.6 (jclouds filesystem backend) on a free 127.0.0.1 port with its data in a temp dir and
 * generated credentials, and resolves once a signed ListBuckets succeeds. Stopping is by PID (SIGTERM, then
 * SIGKILL); `logs()` has its output.
 */
export async function startS3Proxy(opts: StartS3ProxyOptions = {}): Promise<S3TestServer> {
  const libs = await ensureS3ProxyLibs();
  const accessKeyId = opts.accessKeyId ?? `AKPRISM${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = opts.secretAccessKey ?? randomBytes(24).toString('base64url');
  const dir = makeTempDir('s3proxy');
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  writeFileSync(join(dir, 'logback.xml'), LOGBACK_XML);
  const propsFile = join(dir, 's3proxy.properties');
  const server = await startManagedServer(
    {
      kind: 's3',
      dir,
      command: (port) => {
        writeFileSync(propsFile, s3ProxyProperties(port, dataDir, accessKeyId, secretAccessKey), {
          mode: 0o600,
        });
        return {
          cmd: 'java',
          args: [
            '-Xms32m',
            `-Xmx${opts.heapMb ?? 256}m`,
            // Two shared cores: a light GC and C1-only JIT start the server faster and keep it cheap.
            '-XX:+UseSerialGC',
            '-XX:TieredStopAtLevel=1',
            '-Djava.awt.headless=true',
            `-Dlogback.configurationFile=${join(dir, 'logback.xml')}`,
            '-cp',
            `${libs}/*`,
            'org.gaul.s3proxy.Main',
            '--properties',
            propsFile,
          ],
        };
      },
      probe: (port) => probeS3Proxy(port, accessKeyId, secretAccessKey),
      url: (port) => `http://127.0.0.1:${port}`,
      readyTimeoutMs: opts.readyTimeoutMs ?? 60_000,
    },
    opts.port,
  );
  return Object.assign(server, { accessKeyId, secretAccessKey, region: 'us-east-1', dataDir });
}
