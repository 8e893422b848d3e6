import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 in front of a real server, to break the network the way networks
 * break, whatever the protocol: cut every connection once N bytes went one way (a reset
 * mid-transfer), or stop moving bytes without closing anything (a black hole: only timeouts
 * notice). Faults are armed for what flows from now on.
 */
export interface TcpProxy {
  /** The port to connect to instead of the server's. */
  readonly port: number;
  /** Connections relayed so far. */
  readonly connections: number;
  /** Bytes relayed client to server so far, over all connections. */
  readonly upstreamBytes: number;
  /**
   * Destroys every connection (both sides) once `bytes` more bytes have gone in `direction`
   * (`up`: client to server, `down`: server to client). One-shot.
   */
  cutAfter(bytes: number, direction?: 'up' | 'down'): void;
  /** Stops relaying (both ways) once `bytes` more bytes have gone up; sockets stay open. One-shot. */
  stallAfter(bytes: number): void;
  /** Relays again after a stall. */
  resume(): void;
  /** Closes the relay and every connection. */
  close(): Promise<void>;
}

/** Starts a relay to 127.0.0.1:`targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let connections = 0;
  let upstreamBytes = 0;
  let cut: { remaining: number; direction: 'up' | 'down' } | undefined;
  let stall: { remaining: number } | undefined;
  let stalled = false;

  const destroyAll = (): void => {
    for (const [client, server] of pairs) {
      client.destroy();
      server.destroy();
    }
  };

  const relay = (from: Socket, to: Socket, direction: 'up' | 'down'): void => {
    from.on('data', (chunk: Buffer) => {
      if (stalled) return; // swallowed: the black hole
      let data = chunk;
      if (direction === 'up' && stall !== undefined) {
        if (data.length >= stall.remaining) {
          data = data.subarray(0, stall.remaining);
          stall = undefined;
          stalled = true;
        } else {
          stall.remaining -= data.length;
        }
      }
      if (cut !== undefined && cut.direction === direction) {
        if (data.length >= cut.remaining) {
          to.write(data.subarray(0, cut.remaining));
          cut = undefined;
          destroyAll();
          return;
        }
        cut.remaining -= data.length;
      }
      if (direction === 'up') upstreamBytes += data.length;
      to.write(data);
    });
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  };

  const server: Server = createServer((client) => {
    connections += 1;
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    relay(client, upstream, 'up');
    relay(upstream, client, 'down');
    client.on('close', () => pairs.delete(pair));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy is not listening');

  return {
    port: address.port,
    get connections() {
      return connections;
    },
    get upstreamBytes() {
      return upstreamBytes;
    },
    cutAfter(bytes, direction = 'up') {
      cut = { remaining: bytes, direction };
    },
    stallAfter(bytes) {
      stall = { remaining: bytes };
    },
    resume() {
      stalled = false;
      stall = undefined;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        destroyAll();
      });
    },
  };
}
