// A TCP proxy the test controls, standing between a service and Redis or Postgres: pass, cut, stall, or fail on a pattern.
import { once } from 'node:events';
import { createServer, type Server, Socket } from 'node:net';

interface Link {
  client: Socket;
  upstream: Socket;
  /** Client bytes held back once this link stalled: the server never sees them. */
  stalled: boolean;
  /** Server bytes held back: the server acted, the client never hears of it. */
  deaf: boolean;
}

export interface Trigger {
  /** Bytes the client sends that fire the trigger (e.g. a Redis key or an SQL fragment). */
  pattern: string;
  /**
   * cut: every link dropped and new ones refused; stall: this link's bytes from here on are held, the server
   * never sees them; deafen: they reach the server, but its replies on this link are held.
   */
  action: 'cut' | 'stall' | 'deafen';
}

export class TcpProxy {
  private readonly links = new Set<Link>();
  private refusing = false;
  private trigger: Trigger | undefined;
  private server: Server | undefined;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private accept(client: Socket): void {
    if (this.refusing) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    upstream.connect(this.target.port, this.target.host);
    const link: Link = { client, upstream, stalled: false, deaf: false };
    this.links.add(link);
    const drop = () => {
      this.links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.on('data', (chunk: Buffer) => {
      if (!link.stalled && !link.deaf) client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (link.stalled) return;
      const trigger = this.trigger;
      if (trigger && chunk.includes(trigger.pattern)) {
        this.trigger = undefined;
        this.fired?.();
        if (trigger.action === 'cut') return this.cut();
        if (trigger.action === 'stall') {
          link.stalled = true;
          return;
        }
        link.deaf = true;
      }
      upstream.write(chunk);
    });
  }

  /** The store goes away: open connections are reset, new ones refused. */
  cut(): void {
    this.refusing = true;
    for (const link of this.links) {
      link.client.resetAndDestroy();
      link.upstream.destroy();
    }
    this.links.clear();
  }

  /** Every open connection stops answering (a partition): nothing is forwarded either way until restore(). */
  stall(): void {
    for (const link of this.links) link.stalled = true;
    this.refusing = true;
  }

  private fired: (() => void) | undefined;

  /** Fires `trigger` the next time a client sends its pattern; resolves when it has. */
  failOn(trigger: Trigger): Promise<void> {
    this.trigger = trigger;
    return new Promise((resolve) => {
      this.fired = resolve;
    });
  }

  /** The store is back: stalled connections are dropped (their clients reconnect), new ones pass. */
  restore(): void {
    this.trigger = undefined;
    for (const link of this.links) if (link.stalled || link.deaf) link.client.resetAndDestroy();
    this.refusing = false;
  }

  async close(): Promise<void> {
    this.cut();
    this.server?.close();
    if (this.server) await once(this.server, 'close');
  }
}

/** `url` with its host and port replaced by the proxy's. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
