import { ConfigError } from '@prism/config';
import { loadProxyConfig } from '@prism/proxy';

/** Result of {@link validateConfig}: a summary line per namespace, or every problem. */
export interface ValidationResult {
  readonly ok: boolean;
  readonly text: string;
}

/** Loads a namespace YAML the way the proxy does (adapters, schemas, needs) without starting anything. */
export async function validateConfig(file: string): Promise<ValidationResult> {
  try {
    const { config } = await loadProxyConfig(file);
    const lines = config.namespaces.map((ns) => {
      const b = ns.backend;
      const where = b
        ? `${b.type} (${b.plugin.mode}${b.plugin.endpoint ? ` ${b.plugin.endpoint}` : ''})`
        : 'slots';
      return `  ${ns.name}: ${ns.pattern} on ${where}; needs ${ns.needs.join(', ') || 'nothing'}`;
    });
    return { ok: true, text: `${file}: OK, ${config.namespaces.length} namespace(s)\n${lines.join('\n')}` };
  } catch (err) {
    return {
      ok: false,
      text: err instanceof ConfigError ? err.message : `${file}: ${(err as Error).message}`,
    };
  }
}
