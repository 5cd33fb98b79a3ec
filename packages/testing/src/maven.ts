import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

// Java servers the tests run (Kafka, Gremlin Server, ...) come from Maven Central: scripts/<dir>/pom.xml pins
// the version, and the runtime jars are cached under ~/.cache/prism/<cache>-<version>/libs, the same place
// scripts/lib/maven-jars.sh (the setup scripts) fills.

/** A Java server whose runtime jars Maven fetches from `scripts/<dir>/pom.xml`. */
export interface MavenServer {
  /** Folder under scripts/ holding the pom. */
  readonly dir: string;
  /** The pom property holding the version, e.g. `kafka.version`. */
  readonly versionProperty: string;
  /** Prefix of the overrides `<prefix>_POM`, `<prefix>_LIBS` (a jar folder) and `<prefix>_HOME` (the cache). */
  readonly envPrefix: string;
  /** Name of the cache folder, before `-<version>`. */
  readonly cacheName: string;
  /** A jar that must be among the fetched ones, e.g. `kafka_2.13-${version}.jar`. */
  readonly mainJar: (version: string) => string;
}

/** Finds the server's pom: `$<prefix>_POM`, else scripts/<dir>/pom.xml walking up from the working directory. */
export function mavenPomPath(server: MavenServer): string {
  const fromEnv = process.env[`${server.envPrefix}_POM`];
  if (fromEnv) return fromEnv;
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const candidate = join(dir, 'scripts', server.dir, 'pom.xml');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `scripts/${server.dir}/pom.xml not found above the working directory; set ${server.envPrefix}_POM`,
  );
}

/** The version the pom pins (its `<versionProperty>`). */
export function mavenVersion(server: MavenServer, pom = mavenPomPath(server)): string {
  const prop = server.versionProperty.replace(/\./g, '\\.');
  const match = new RegExp(`<${prop}>([^<]+)</${prop}>`).exec(readFileSync(pom, 'utf8'));
  if (!match?.[1]) throw new Error(`${pom} has no <${server.versionProperty}> property`);
  return match[1];
}

/** Runs a command and resolves with its stdout; rejects with its output when it fails or times out. */
export function runCommand(cmd: string, args: readonly string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr || stdout || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Directory holding every jar the server needs (`$<prefix>_LIBS`, or the Maven-fetched cache), fetching it
 * with `mvn dependency:copy-dependencies` when missing. Concurrent callers each fetch into a temp dir and the
 * first rename wins, so a half-copied directory is never used.
 */
export async function ensureMavenLibs(server: MavenServer): Promise<string> {
  const fromEnv = process.env[`${server.envPrefix}_LIBS`];
  if (fromEnv) return fromEnv;
  const pom = mavenPomPath(server);
  const version = mavenVersion(server, pom);
  const cache = process.env[`${server.envPrefix}_HOME`] ?? join(homedir(), '.cache', 'prism');
  const home = join(cache, `${server.cacheName}-${version}`);
  const libs = join(home, 'libs');
  if (existsSync(join(libs, '.complete'))) return libs;
  mkdirSync(home, { recursive: true });
  const tmp = mkdtempSync(join(home, 'libs.'));
  try {
    const args = ['-q', '-B', '-Dstyle.color=never', '-f', pom, 'dependency:copy-dependencies'];
    await runCommand('mvn', [...args, '-DincludeScope=runtime', `-DoutputDirectory=${tmp}`], 10 * 60_000);
    const jar = server.mainJar(version);
    if (!existsSync(join(tmp, jar))) throw new Error(`Maven did not fetch ${jar}`);
    writeFileSync(join(tmp, '.complete'), '');
    if (!existsSync(join(libs, '.complete'))) {
      rmSync(libs, { recursive: true, force: true });
      renameSync(tmp, libs);
    }
  } catch (err) {
    if (!existsSync(join(libs, '.complete'))) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return libs;
}
