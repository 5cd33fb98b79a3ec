import { servePlugin } from '@prism/sdk';
import plugin from './plugin.mjs';

await servePlugin(plugin);
