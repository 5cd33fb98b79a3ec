import { spawn, execFileSync } from 'node:child_process';
import { createClient } from 'redis';
const port = 16391;
const srv = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no']);
await new Promise(r => setTimeout(r, 300));
const cli = (...a) => execFileSync('redis-cli', ['-p', String(port), ...a]).toString().trim();
console.log(cli('ACL', 'SETUSER', 'prism', 'on', '>pw1', '~*', '&*', '+@all'));
console.log(cli('ACL', 'SETUSER', 'default', 'off'));
const cliA = (...a) => execFileSync('redis-cli', ['-p', String(port), '--user', 'prism', '--pass', 'pw1', '--no-auth-warning', ...a]).toString().trim();
for (const opts of [{username:'prism', password:'bad'}, {}, {username:'prism'}]) {
  let started = false;
  const c = createClient({ url: `redis://127.0.0.1:${port}`, ...opts, disableOfflineQueue: true, socket: { reconnectStrategy: (n, cause) => { console.log('rs', cause?.constructor?.name, cause?.message); return new Error('x'); } } });
  c.on('error', e => console.log('error ev', e.constructor.name, e.message));
  try { await c.connect(); console.log('connected'); console.log(await c.sendCommand(['PING'])); } catch (e) { console.log('caught', opts, e.constructor.name, e.message); }
  try { c.destroy(); } catch {}
}
const c = createClient({ url: `redis://127.0.0.1:${port}`, username: 'prism', password: 'pw1', disableOfflineQueue: true, socket: { reconnectStrategy: (n, cause) => { console.log('rs2', n, cause?.constructor?.name, cause?.message); return 200; } } });
c.on('error', e => console.log('error ev2', e.constructor.name, e.message));
await c.connect(); console.log(await c.sendCommand(['ACL', 'WHOAMI']));
console.log(cliA('ACL', 'SETUSER', 'prism', 'resetpass', '>pw2'));
console.log(await c.sendCommand(['PING']));
execFileSync('redis-cli', ['-p', String(port), '--user', 'prism', '--pass', 'pw2', '--no-auth-warning', 'CLIENT', 'KILL', 'USER', 'prism']);
await new Promise(r => setTimeout(r, 700));
try { console.log(await c.sendCommand(['PING'])); } catch (e) { console.log('after kill', e.constructor.name, e.message, c.isReady, c.isOpen); }
c.destroy();
srv.kill();
