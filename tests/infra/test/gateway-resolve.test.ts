// The compose gateway follows a recreated service to its new address without a restart (issue 17 item 8): nginx runs
// infra/gateway/nginx.conf with its resolver pointed at a small DNS server of the test, and the service "moves".
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INFRA, tool } from './support.js';

let dir: string;
let nginx: ChildProcess | undefined;
let dns: Socket;
/** The address the test's DNS server gives for every name. */
let address = '127.0.0.2';
const servers: Server[] = [];
let gateway: string;

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Answers every A query with `address` (RFC 1035 §4.1: the question echoed, one answer pointing at it, TTL 1 s). */
function answer(query: Buffer): Buffer {
  let end = 12;
  while (query[end] !== 0) end += (query[end] as number) + 1;
  const question = query.subarray(12, end + 5);
  const header = Buffer.from([query[0] as number, query[1] as number, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
  const record = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, ...address.split('.').map(Number)]);
  return Buffer.concat([header, question, record]);
}

/** An HTTP server on `host:port` that says who it is. */
async function service(host: string, port: number): Promise<Server> {
  const server = createServer((_req, res) => res.end(host));
  server.listen(port, host);
  await once(server, 'listening');
  servers.push(server);
  return server;
}

/** Replaces exactly one occurrence of `from`, so the test fails if the gateway config no longer has it. */
function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === 'string' ? text.split(from).length - 1 : [...text.matchAll(new RegExp(from, 'g'))].length;
  expect(count, String(from)).toBe(1);
  return text.replace(from, to);
}

let uiPort: number;
let first: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gateway-resolve-'));
  chmodSync(dir, 0o755);
  dns = createSocket('udp4');
  dns.on('message', (msg, peer) => dns.send(answer(msg), peer.port, peer.address));
  dns.bind(0, '127.0.0.1');
  await once(dns, 'listening');
  const [gatewayPort, adminPort] = [await freePort(), await freePort()];
  uiPort = await freePort();
  first = await service('127.0.0.2', uiPort);

  let conf = readFileSync(`${INFRA}gateway/nginx.conf`, 'utf8');
  conf = replaceOnce(conf, /resolver 127\.0\.0\.11 valid=\d+s/, `resolver 127.0.0.1:${dns.address().port} valid=1s`);
  conf = replaceOnce(conf, 'pid /tmp/nginx.pid;', `pid ${dir}/nginx.pid;`);
  conf = replaceOnce(conf, 'access_log /dev/stdout public;', `access_log ${dir}/access.log public;`);
  conf = replaceOnce(conf, /error_log \/dev\/stderr \w+;/, `error_log ${dir}/error.log warn;`);
  conf = replaceOnce(conf, 'listen 8080;', `listen 127.0.0.1:${gatewayPort};`);
  conf = replaceOnce(conf, 'listen 8081;', `listen 127.0.0.1:${adminPort};`);
  // The service names stay: only their port moves to one this test may use.
  conf = replaceOnce(conf, 'http://authorize-ui:3000;', `http://authorize-ui:${uiPort};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k};`).join('\n');
  conf = replaceOnce(conf, 'http {\n', `http {\n${temp}\n`);
  writeFileSync(join(dir, 'nginx.conf'), conf);
  nginx = spawn(tool('nginx', 'nginx'), ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], {
    stdio: 'ignore',
  });
  gateway = `http://127.0.0.1:${gatewayPort}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${gateway}/nothing`).then(
        () => true,
        () => false,
      )
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
});

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await once(nginx, 'exit');
  }
  for (const s of servers) s.close();
  dns?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gateway name resolution', () => {
  it('reaches a recreated service at its new address within the resolver validity, without a restart', async () => {
    const login = async () => {
      const res = await fetch(`${gateway}/login`).catch(() => undefined);
      return res ? `${res.status} ${await res.text()}` : 'no answer';
    };
    expect(await login()).toBe('200 127.0.0.2');
    // The container is recreated: the old address stops answering, the name now resolves to a new one.
    first.close();
    await service('127.0.0.3', uiPort);
    address = '127.0.0.3';
    const deadline = Date.now() + 15_000;
    let seen = await login();
    while (seen !== '200 127.0.0.3' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await login();
    }
    expect(seen, readFileSync(join(dir, 'error.log'), 'utf8')).toBe('200 127.0.0.3');
  }, 30_000);
});
