/** What the templates need to know about the package being generated. */
export interface TemplateContext {
  /** Backend type, e.g. `mapstore` (YAML `backend.type`). */
  readonly name: string;
  /** npm package name, e.g. `@prism/adapter-mapstore`. */
  readonly packageName: string;
  /** Path from the package to the workspace root (e.g. `../../..`), or undefined outside the Prism workspace. */
  readonly toRoot: string | undefined;
}

const title = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

export function packageJson(t: TemplateContext): string {
  const dep = (v: string) => (t.toRoot ? 'workspace:*' : v);
  const jest = t.toRoot ? `${t.toRoot}/node_modules/jest/bin/jest.js` : 'node_modules/jest/bin/jest.js';
  const pkg = {
    name: t.packageName,
    version: '0.1.0',
    description: `Prism ${t.name} backend plugin`,
    type: 'module',
    license: 'Apache-2.0',
    exports: {
      '.': { '@prism/source': './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' },
    },
    bin: { [`prism-plugin-${t.name}`]: './dist/bin.js' },
    types: './dist/index.d.ts',
    files: ['dist', 'README.md'],
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc -p tsconfig.json --noEmit',
      test: `node --experimental-vm-modules --disable-warning=ExperimentalWarning ${jest}`,
    },
    dependencies: {
      '@prism/keyvalue-basic': dep('^0.1.0'),
      '@prism/sdk': dep('^0.1.0'),
    },
    devDependencies: {
      '@bufbuild/protobuf': '^2.17.0',
      '@jest/globals': '^30.5.2',
      ...(t.toRoot
        ? {}
        : { '@swc/core': '^1.16.22', '@swc/jest': '^0.2.39', jest: '^30.5.2', typescript: '~6.0.3' }),
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function tsconfig(t: TemplateContext): string {
  if (t.toRoot)
    return `{
  "extends": "${t.toRoot}/tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist" },
  "include": ["src"]
}
`;
  return `{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023"],
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "strict": true,
    "skipLibCheck": true,
    "verbatimModuleSyntax": true,
    "declaration": true,
    "rootDir": "src",
    "outDir": "dist",
    "types": ["node"]
  },
  "include": ["src"]
}
`;
}

export const tsconfigBuild = (t: TemplateContext): string =>
  t.toRoot
    ? `{
  "extends": "./tsconfig.json",
  "compilerOptions": { "customConditions": [] },
  "exclude": ["src/**/*.test.ts"]
}
`
    : `{
  "extends": "./tsconfig.json",
  "exclude": ["src/**/*.test.ts"]
}
`;

export function jestConfig(t: TemplateContext): string {
  if (t.toRoot)
    return `import preset from '${t.toRoot}/jest.preset.mjs';
export default { ...preset };
`;
  return `export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\\\.{1,2}/.*)\\\\.js$': '$1' },
  transform: { '^.+\\\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }] },
  testMatch: ['<rootDir>/src/**/*.test.ts'],
};
`;
}

export function indexTs(t: TemplateContext): string {
  return `import { KeyValueBasic } from '@prism/keyvalue-basic';
import { definePlugin, healthy, implement, unimplemented, z } from '@prism/sdk';

/** \`backend.config\` of a ${t.name} namespace. Unknown keys are rejected, so a typo fails at load with its path. */
export const ${title(t.name)}Config = z.strictObject({
  // TODO: your backend's settings. Defaults apply when the YAML leaves a key out.
  url: z.string().default('${t.name}://127.0.0.1'),
});

/**
 * The ${t.name} backend plugin. Add an interface = add it to \`interfaces\`, bind it in \`create\`, and call
 * its conformance suite from the test.
 */
export default definePlugin({
  name: '${t.name}',
  version: '0.1.0',
  description: '${t.name} backend for Prism',
  interfaces: [KeyValueBasic],
  configSchema: ${title(t.name)}Config,
  create(config, ctx) {
    // One instance per namespace. TODO: create your backend client from \`config\` (pool, timeouts).
    // Namespaces may share a backend: keep their data apart, e.g. prefix every key.
    const prefix = \`\${ctx.namespace}:\`;
    ctx.logger.debug({ url: config.url, prefix }, 'creating instance');
    return {
      // TODO: connect; a rejection aborts the namespace's start with your message.
      async start() {},
      bindings: [
        // Requests arrive validated (empty keys, size limits); throw the SDK's error helpers
        // (notFound, unavailable, ...) for the rest. Unexpected errors become INTERNAL.
        implement(KeyValueBasic, {
          async set(req) {
            // TODO: store req.value under prefix + req.key, overwriting.
            throw unimplemented(\`${t.name}: Set of "\${req.key}" is not implemented yet (src/index.ts)\`);
          },
          async get(req) {
            // TODO: return { found: true, value } or { found: false } for prefix + req.key.
            throw unimplemented(\`${t.name}: Get of "\${req.key}" is not implemented yet (src/index.ts)\`);
          },
          async delete(req) {
            // TODO: remove prefix + req.key; return { deleted: true } when it existed.
            throw unimplemented(\`${t.name}: Delete of "\${req.key}" is not implemented yet (src/index.ts)\`);
          },
          async exists(req) {
            // TODO: return { exists } for prefix + req.key.
            throw unimplemented(\`${t.name}: Exists of "\${req.key}" is not implemented yet (src/index.ts)\`);
          },
        }),
      ],
      // TODO: ping the backend; return degraded/unhealthy with a message when it struggles.
      health: () => healthy(),
      // TODO: close connections and timers.
      async close() {},
    };
  },
});
`;
}

export const binTs = (t: TemplateContext): string => `#!/usr/bin/env node
// \`prism-plugin-${t.name}\`: this plugin as a standalone server (sidecar or remote); see \`--help\`.
import { servePlugin } from '@prism/sdk';
import plugin from './index.js';

await servePlugin(plugin);
`;

export const testTs = (
  t: TemplateContext,
): string => `import { describeKeyValueBasicConformance } from '@prism/keyvalue-basic/conformance';
import { instantiatePlugin } from '@prism/sdk';
import plugin from './index.js';

// The keyvalue_basic conformance suite defines the semantics your plugin must have.
// TODO: run it against a real backend started for the tests (see @prism/testing) via the config.
describeKeyValueBasicConformance('${t.name}', (opts) => instantiatePlugin(plugin, {}, opts));
`;

export const readme = (t: TemplateContext): string => `# ${t.packageName}

Prism backend plugin \`${t.name}\` (generated by \`prismctl plugin init ${t.name}\`). Implements
\`keyvalue_basic\`.

## Fill it in

1. \`src/index.ts\`: the config schema, then every \`TODO\` — create the client in \`create\`, connect in
   \`start\`, the four calls, \`health\`, \`close\`.
2. \`src/${t.name}.test.ts\`: point the config at a real backend started for the tests.
3. \`pnpm test\` runs the keyvalue_basic conformance suite; it passes when the plugin is done.

## Use it

\`\`\`yaml
namespaces:
  - name: example
    pattern: keyvalue
    backend:
      type: ${t.name}
      plugin: { mode: in_process } # or sidecar (the proxy runs prism-plugin-${t.name}), or remote
      config: { url: "${t.name}://127.0.0.1" }
\`\`\`

Standalone server: \`prism-plugin-${t.name} --socket /run/prism/${t.name}.sock\` or
\`prism-plugin-${t.name} --port 9443 --tls-cert cert.pem --tls-key key.pem\`. See docs/plugins.md.
`;
