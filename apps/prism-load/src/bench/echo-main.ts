// Runs the bare HTTP/2 echo server as its own process (like the proxy), printing its port on stdout.
import { startEchoServer } from './echo-server.js';

const valueSize = Number(process.argv[2] ?? 1024);
const server = await startEchoServer(valueSize);
process.stdout.write(`listening ${server.port}\n`);
process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
