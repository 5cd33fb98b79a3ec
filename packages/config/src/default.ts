/**
 * The built-in config: namespace `default` (keyvalue) on MemStore, and the admin API on loopback (so
 * `prismctl` works right after `npm start`). Needs no environment or files.
 */
export const DEFAULT_CONFIG_YAML = `# Prism built-in default config: one in-memory namespace, no secrets, no servers.
proxy:
  listen: 0.0.0.0:8980
  admin: { listen: 127.0.0.1:8981 } # prism.admin.v1 for prismctl; --admin-port changes the port
namespaces:
  - name: default
    pattern: keyvalue
    backend:
      type: memstore
      plugin: { mode: in_process }
`;
