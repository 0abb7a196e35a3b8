/**
 * A TCP proxy between the CLI and an emulator that tests control: it sees each HTTP request start
 * (method and path, before the request is forwarded), can hold requests (pause/resume), reset every
 * connection at once and refuse new ones for a while (a dropped network), and follows an emulator
 * that restarts on another port. Plain `node:net`; no HTTP parsing beyond the request line.
 */
import { createServer, Socket, type Server } from 'node:net';

/** A request line seen by the proxy, in arrival order (`seq` counts from 1). */
export interface SeenRequest {
  seq: number;
  method: string;
  path: string;
  /** Lets the request through but resets its connection when the answer comes: the server acts, the client never learns it. */
  cutResponse(): void;
}

const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP\/1\.[01]\r\n/;

export class ChaosProxy {
  private server!: Server;
  private target: number | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private held: (() => void)[] | undefined;
  private refuseUntil = 0;
  private seq = 0;
  /** Called for every request line, before its bytes are forwarded. */
  onRequest: ((req: SeenRequest) => void) | undefined;

  private constructor(target: number | undefined) {
    this.target = target;
  }

  /** Starts a proxy on an ephemeral loopback port forwarding to `target` (a port on 127.0.0.1). */
  static async start(target?: number): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(target);
    proxy.server = createServer((client) => proxy.accept(client));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const addr = this.server.address();
    return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  /** Forwards new connections to this port (an emulator that restarted elsewhere). */
  setTarget(port: number | undefined): void {
    this.target = port;
  }

  /** Requests seen so far. */
  get requests(): number {
    return this.seq;
  }

  /** Holds every request (new bytes from clients) until {@link resume}. */
  pause(): void {
    this.held ??= [];
  }

  /** Forwards the held requests and stops holding. */
  resume(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const go of held) go();
  }

  /** Resets every open connection (RST), and refuses new ones for `refuseMs`. */
  resetAll(refuseMs = 0): void {
    this.refuseUntil = Date.now() + refuseMs;
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (Date.now() < this.refuseUntil || this.target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    const drop = () => {
      this.pairs.delete(pair);
      if (!client.destroyed) client.resetAndDestroy();
      if (!upstream.destroyed) upstream.destroy();
    };
    upstream.on('error', drop);
    client.on('error', drop);
    upstream.on('close', drop);
    client.on('close', drop);
    let cut = false;
    upstream.on('data', (chunk) => {
      if (cut) drop();
      else client.write(chunk);
    });
    const queue: Buffer[] = [];
    let connected = false;
    upstream.connect(this.target, '127.0.0.1', () => {
      connected = true;
      for (const chunk of queue.splice(0)) upstream.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      const forward = () => {
        if (connected) upstream.write(chunk);
        else queue.push(chunk);
      };
      const line = REQUEST_LINE.exec(chunk.subarray(0, 2048).toString('latin1'));
      if (line) this.onRequest?.({ seq: ++this.seq, method: line[1]!, path: line[2]!, cutResponse: () => (cut = true) });
      if (client.destroyed) return;
      if (this.held) this.held.push(forward);
      else forward();
    });
  }
}
