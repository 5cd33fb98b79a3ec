#!/usr/bin/env node
// `prism-plugin-neptune`: the Neptune adapter as a standalone plugin server (sidecar or remote); see `--help`.
import { servePlugin } from '@prism/sdk';
import plugin from './index.js';

await servePlugin(plugin);
