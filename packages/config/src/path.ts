/** A location in the config tree, as YAML keys and list indexes. */
export type Path = readonly (string | number)[];

const IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders a path the way users write it: `namespaces[1].backend.config.url`. */
export function formatPath(path: Path): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (IDENT.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}
