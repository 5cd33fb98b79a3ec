/** The built-in config: namespace `default` (keyvalue) on MemStore. Needs no environment or files. */
export const DEFAULT_CONFIG_YAML = `# Prism built-in default config: one in-memory namespace, no secrets, no servers.
proxy:
  listen: 0.0.0.0:8980
namespaces:
  - name: default
    pattern: keyvalue
    backend:
      type: memstore
      plugin: { mode: in_process }
`;
