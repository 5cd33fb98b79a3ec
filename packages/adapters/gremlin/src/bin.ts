#!/usr/bin/env node
// `prism-plugin-gremlin`: the Gremlin adapter as a standalone plugin server (sidecar or remote); see `--help`.
import { servePlugin } from '@prism/sdk';
import plugin from './index.js';

await servePlugin(plugin);
