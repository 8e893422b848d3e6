import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A fault-injecting TCP relay on 127.0.0.1 between our client and a real server, for the fault
 * runs. In FTP mode it understands the control connection: it relays the data connections too
 * (every `227`/`229` reply is rewritten to a port of the proxy that relays to the server's data
 * port), so faults can hit uploads and downloads, and it can answer a command itself (`reply`).
 * In raw mode (SFTP, FTPS, whose control channel is encrypted) it relays bytes only, every
 * connection counting as `control`.
 *
 * Faults are armed for what happens from then on; each fires once, except `slow`, which lasts
 * its time. Nothing of the proxy listens anywhere but 127.0.0.1, no socket error reaches the
 * process, and `close()` leaves no timer, listener or socket behind.
 */

/** `control`: the connections clients open to the proxy's port; `data`: FTP data connections. */
export type ProxyChannel = 'control' | 'data';
/** `up`: client -> server, `down`: server -> client. */
export type ProxyDirection = 'up' | 'down';
export type ProxyFault =
  /** The next `connections` control connections are accepted and destroyed at once (a refused/reset connect). */
  | { kind: 'refuse'; connections: number }
  /** Once `afterBytes` more bytes went `direction` on `channel` (counted from arming, over all connections of that channel), destroy that connection (both sides); for `control`, also its open data connections. One-shot. */
  | { kind: 'cut'; channel: ProxyChannel; direction: ProxyDirection; afterBytes: number }
  /** Once `afterBytes` more bytes went `direction` on `channel`, stop relaying that connection (both ways, bytes swallowed, sockets left open: a black hole) for `forMs`, then destroy it. One-shot. */
  | {
      kind: 'stall';
      channel: ProxyChannel;
      direction: ProxyDirection;
      afterBytes: number;
      forMs: number;
    }
  /** Relay every connection at about `bytesPerSecond` (both ways) for `forMs` from arming. */
  | { kind: 'slow'; bytesPerSecond: number; forMs: number }
  /** FTP mode only: the next time upload bytes flow on a data connection while another control connection waits for the end of its own upload (its data connection ended, the server's reply not yet come: the file closing), destroy that data connection. The send's second session meets this when part k+1 flows while part k closes. One-shot. */
  | { kind: 'cut-overlapping' }
  /** FTP mode only: the next time the client sends `command` (an FTP verb, case-insensitive: STOR, RETR, LIST, MLSD, DELE, SIZE, RNFR, EPSV, PASV, USER, PASS, TYPE, CWD...), the proxy does not forward it and answers `${code} injected transient failure` itself; with 421 it then closes the control connection (and its data connections) like a server shutting down. One-shot. */
  | { kind: 'reply'; command: string; code: 421 | 425 | 426 | 450 | 451 | 452 };

export interface FaultProxyOptions {
  /** The real server's port on 127.0.0.1. */
  targetPort: number;
  /** FTP mode: relay data connections (PASV/EPSV rewritten) and understand commands; false: raw bytes. */
  ftp: boolean;
}

export interface FaultProxyStats {
  /** Connections accepted on the proxy's port, refused ones included. */
  controlConnections: number;
  /** FTP data connections relayed (connections to the proxy's data listeners). */
  dataConnections: number;
  /** Faults that fired, in order, described (`cut data up after 1234`, `reply STOR 450`...). */
  fired: string[];
}

export interface FaultProxy {
  readonly port: number;
  readonly stats: FaultProxyStats;
  /** Arms a fault (several may be armed at once; each fires once, slow lasts forMs). */
  arm(fault: ProxyFault): void;
  /** Faults armed that have not fired (slow counts as fired when armed). */
  pending(): ProxyFault[];
  /** Disarms every pending fault and ends any slow-down (stalled connections stay stalled until their forMs). */
  clear(): void;
  /** Closes the listeners and destroys every connection. */
  close(): Promise<void>;
}

/** The only address the proxy listens on and connects to. */
const LOOPBACK = '127.0.0.1';
/**
 * A data listener nobody connected to is closed after this long (a client connects at once on
 * reading the passive reply; this leaves room for a slowed or stalled control connection).
 */
const DATA_LISTENER_IDLE_MS = 10_000;
/** After a 421, the client gets this long to close its side before the proxy destroys it. */
const SHUTDOWN_GRACE_MS = 1000;
/** A connection destroyed by a fault is reset this long after its last relayed byte. */
const RESET_GRACE_MS = 20;
/** Under `slow`, bytes go out in slices this many times a second. */
const SLOW_TICKS_PER_SECOND = 20;
/** A control "line" longer than this without a line feed is relayed as it is (not FTP). */
const MAX_LINE_BYTES = 16 * 1024;
const LINE_FEED = 0x0a;

type ByteFault = Extract<ProxyFault, { kind: 'cut' | 'stall' }>;
type RefuseFault = Extract<ProxyFault, { kind: 'refuse' }>;
type ReplyFault = Extract<ProxyFault, { kind: 'reply' }>;
type SlowFault = Extract<ProxyFault, { kind: 'slow' }>;
type OverlapFault = Extract<ProxyFault, { kind: 'cut-overlapping' }>;

/** An armed fault and what is left of it. */
type Armed =
  | { fault: ByteFault; remaining: number }
  | { fault: RefuseFault; remaining: number }
  | { fault: ReplyFault }
  | { fault: OverlapFault };

/** One relayed connection: the client's socket, the proxy's socket to the server. */
interface Pair {
  readonly channel: ProxyChannel;
  readonly client: Socket;
  readonly server: Socket;
  readonly up: Leg;
  readonly down: Leg;
  /** Destroyed (by a fault, an error or close()): nothing more is relayed. */
  dead: boolean;
  /** A black hole: everything that arrives is swallowed until the stall's end. */
  stalled: boolean;
  /** The control connection of a data connection. */
  readonly control: Pair | undefined;
  /** FTP state of a control connection in FTP mode; undefined for data and raw connections. */
  readonly ftp: FtpControl | undefined;
  /** Data connections of a control connection. */
  readonly dataPairs: Set<Pair>;
  /** Data listeners of a control connection not yet connected to, each with its closer. */
  readonly dataListeners: Map<Server, () => void>;
  /** Sockets closed so far (the pair is forgotten at 2). */
  closed: number;
}

/** What the proxy follows of an FTP control connection. */
interface FtpControl {
  readonly upLines: LineBuffer;
  readonly downLines: LineBuffer;
  /**
   * Server lines are handled in order, one after the other: a passive reply waits for its data
   * listener before it (and anything after it) goes to the client.
   */
  downChain: Promise<void>;
  /** After AUTH TLS succeeded the control connection is TLS: relayed as bytes from then on. */
  raw: boolean;
  /** A 421 was injected: the client's commands are no longer relayed. */
  shuttingDown: boolean;
  /** An upload's data connection ended and the server has not answered yet (closing the file). */
  closingUpload: boolean;
}

/** Splits a byte stream into lines (each with its own line ending), keeping every byte. */
class LineBuffer {
  private rest: Buffer = Buffer.alloc(0);

  /** The complete lines `chunk` finishes; a partial line waits for the next chunk. */
  feed(chunk: Buffer): Buffer[] {
    const data = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    const lines: Buffer[] = [];
    let start = 0;
    for (let end = data.indexOf(LINE_FEED); end !== -1; end = data.indexOf(LINE_FEED, start)) {
      lines.push(data.subarray(start, end + 1));
      start = end + 1;
    }
    this.rest = data.subarray(start);
    if (this.rest.length > MAX_LINE_BYTES) lines.push(this.take());
    return lines;
  }

  /** The partial line held, emptied. */
  take(): Buffer {
    const rest = this.rest;
    this.rest = Buffer.alloc(0);
    return rest;
  }
}

/** Closes a socket at once, with a reset when it is connected (what a cut network does). */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

/** Describes a fault for `stats.fired`. */
function describe(fault: ProxyFault): string {
  switch (fault.kind) {
    case 'refuse':
      return 'refuse control connection';
    case 'cut':
      return `cut ${fault.channel} ${fault.direction} after ${fault.afterBytes}`;
    case 'stall':
      return `stall ${fault.channel} ${fault.direction} after ${fault.afterBytes} for ${fault.forMs} ms`;
    case 'slow':
      return `slow ${fault.bytesPerSecond} B/s for ${fault.forMs} ms`;
    case 'reply':
      return `reply ${fault.command.toUpperCase()} ${fault.code}`;
    case 'cut-overlapping':
      return 'cut data up while another upload closes';
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`fault proxy: ${name} must be a whole number >= ${min}, got ${value}`);
  }
}

/** Refuses a fault that could never fire as described (a mistake in the runner, not a fault). */
function checkFault(fault: ProxyFault, ftp: boolean): void {
  switch (fault.kind) {
    case 'refuse':
      checkCount('connections', fault.connections, 1);
      return;
    case 'stall':
      checkCount('forMs', fault.forMs, 0);
      checkCount('afterBytes', fault.afterBytes, 0);
      return;
    case 'cut':
      checkCount('afterBytes', fault.afterBytes, 0);
      return;
    case 'slow':
      checkCount('forMs', fault.forMs, 0);
      if (!(Number.isFinite(fault.bytesPerSecond) && fault.bytesPerSecond > 0)) {
        throw new RangeError(
          `fault proxy: bytesPerSecond must be > 0, got ${fault.bytesPerSecond}`,
        );
      }
      return;
    case 'cut-overlapping':
      if (!ftp) throw new Error('fault proxy: cut-overlapping needs FTP mode (ftp: true)');
      return;
    case 'reply':
      if (!ftp) throw new Error('fault proxy: a reply fault needs FTP mode (ftp: true)');
      if (!/^[A-Za-z]{3,4}$/.test(fault.command)) {
        throw new RangeError(`fault proxy: ${JSON.stringify(fault.command)} is not an FTP verb`);
      }
      return;
  }
}

/** The FTP verb of a client line (`STOR`, `LIST`...), upper case. */
function verbOf(line: Buffer): string {
  const text = line.toString('latin1').trimStart();
  const match = /^[A-Za-z]+/.exec(text);
  return match === null ? '' : match[0].toUpperCase();
}

/** What a passive reply says: the server's data port, and how to say another port instead. */
interface PassiveReply {
  port: number;
  rewrite(proxyPort: number): Buffer;
}

/**
 * Reads a single-line `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)` or `229 Entering Extended
 * Passive Mode (|||port|)` (basic-ftp also accepts `!` as the delimiter); undefined for any
 * other line. The rest of the line is kept byte for byte.
 */
function passiveReply(line: Buffer): PassiveReply | undefined {
  const text = line.toString('latin1');
  if (text.startsWith('227 ')) {
    const match = /(\d{1,3},\d{1,3},\d{1,3},\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(text);
    if (match === null) return undefined;
    const [whole, , high, low] = match;
    const port = (Number(high) & 255) * 256 + (Number(low) & 255);
    return {
      port,
      rewrite: (proxyPort) =>
        Buffer.from(
          text.replace(whole, `127,0,0,1,${proxyPort >> 8},${proxyPort & 255}`),
          'latin1',
        ),
    };
  }
  if (text.startsWith('229 ')) {
    const match = /([|!])\1\1(\d+)\1/.exec(text);
    if (match === null) return undefined;
    const [whole, delimiter = '|', digits] = match;
    return {
      port: Number(digits),
      rewrite: (proxyPort) =>
        Buffer.from(
          text.replace(whole, `${delimiter.repeat(3)}${proxyPort}${delimiter}`),
          'latin1',
        ),
    };
  }
  return undefined;
}

/**
 * One direction of a pair: what arrived from `from`, queued and written to `to`, counted by
 * the faults, at the `slow` rate when one runs, pausing `from` while `to` is full.
 */
class Leg {
  private readonly queue: Buffer[] = [];
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private ending = false;
  private ended = false;
  /** Set once the pair exists (the two legs are made first). */
  pair: Pair | undefined;

  constructor(
    readonly direction: ProxyDirection,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly core: ProxyCore,
  ) {}

  /** Queues bytes for `to`. */
  push(data: Buffer): void {
    const pair = this.pair;
    if (pair === undefined || pair.dead || pair.stalled || this.ending || data.length === 0) return;
    this.queue.push(data);
    this.pump();
  }

  /** `from` ended (or the proxy ends this side): end `to` once the queue is out. */
  end(): void {
    this.ending = true;
    this.pump();
  }

  /** Drops what is queued and any pending slice (the pair died or stalled). */
  drop(): void {
    this.queue.length = 0;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.from.destroyed) this.from.resume();
  }

  /** Writes what may be written now. */
  pump(): void {
    const pair = this.pair;
    if (pair === undefined || pair.dead || pair.stalled) return;
    while (!this.draining && this.timer === undefined && this.queue.length > 0) {
      const head = this.queue[0] as Buffer;
      const rate = this.core.slowRate();
      const size =
        rate === undefined ? head.length : Math.max(1, Math.floor(rate / SLOW_TICKS_PER_SECOND));
      const piece = head.subarray(0, size);
      if (piece.length === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(piece.length);
      this.core.transmit(this, pair, piece);
      if (pair.dead || pair.stalled) return;
      if (rate !== undefined) {
        this.timer = setTimeout(
          () => {
            this.timer = undefined;
            this.pump();
          },
          (piece.length / rate) * 1000,
        );
      }
    }
    if (this.queue.length === 0 && this.ending && !this.ended && !this.draining) {
      this.ended = true;
      if (!this.to.destroyed) this.to.end();
    }
    // Backpressure: read no more while the other side or the slow-down holds bytes back.
    if (this.from.destroyed) return;
    if (this.queue.length > 0 || this.draining) this.from.pause();
    else this.from.resume();
  }

  /** Writes counted bytes to `to` (called by the fault accounting). */
  write(data: Buffer): void {
    if (data.length === 0 || this.to.destroyed) return;
    if (!this.to.write(data) && !this.draining) {
      this.draining = true;
      this.to.once('drain', () => {
        this.draining = false;
        this.pump();
      });
    }
  }
}

/** The proxy's state and its fault logic, behind the FaultProxy handle. */
class ProxyCore {
  readonly stats: FaultProxyStats = { controlConnections: 0, dataConnections: 0, fired: [] };
  private armed: Armed[] = [];
  private slow: { fault: SlowFault; until: number; timer: NodeJS.Timeout } | undefined;
  private readonly pairs = new Set<Pair>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closing = false;

  constructor(
    private readonly options: FaultProxyOptions,
    private readonly listener: Server,
  ) {}

  arm(fault: ProxyFault): void {
    checkFault(fault, this.options.ftp);
    if (fault.kind === 'slow') {
      this.endSlow();
      const timer = setTimeout(() => this.endSlow(), fault.forMs);
      this.slow = { fault, until: Date.now() + fault.forMs, timer };
      this.stats.fired.push(describe(fault));
      return;
    }
    if (fault.kind === 'refuse') this.armed.push({ fault, remaining: fault.connections });
    else if (fault.kind === 'reply') this.armed.push({ fault });
    else if (fault.kind === 'cut-overlapping') this.armed.push({ fault });
    else this.armed.push({ fault, remaining: fault.afterBytes });
  }

  pending(): ProxyFault[] {
    return this.armed.map((armed) => armed.fault);
  }

  clear(): void {
    this.armed = [];
    this.endSlow();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()));
    for (const pair of [...this.pairs]) {
      // Dead pairs included: a cut one may still wait for its reset.
      pair.dead = true;
      pair.up.drop();
      pair.down.drop();
      pair.client.destroy();
      pair.server.destroy();
      this.closeDataListeners(pair);
    }
    await closed;
  }

  /** The `slow` rate in force, if any. */
  slowRate(): number | undefined {
    if (this.slow === undefined || Date.now() >= this.slow.until) return undefined;
    return this.slow.fault.bytesPerSecond;
  }

  /** A client connected to the proxy's port. */
  acceptControl(client: Socket): void {
    client.on('error', () => undefined);
    if (this.closing) {
      client.destroy();
      return;
    }
    this.stats.controlConnections += 1;
    const refuse = this.armed.find(
      (armed): armed is { fault: RefuseFault; remaining: number } => armed.fault.kind === 'refuse',
    );
    if (refuse !== undefined) {
      refuse.remaining -= 1;
      if (refuse.remaining === 0) this.disarm(refuse);
      const nth = refuse.fault.connections - refuse.remaining;
      this.stats.fired.push(`${describe(refuse.fault)} ${nth}/${refuse.fault.connections}`);
      reset(client);
      return;
    }
    this.relay('control', client, this.options.targetPort, undefined);
  }

  /** Starts relaying `client` to the server's `port`. */
  private relay(channel: ProxyChannel, client: Socket, port: number, control: Pair | undefined) {
    const server = connect({ host: LOOPBACK, port, allowHalfOpen: true });
    server.on('error', () => undefined);
    client.setNoDelay(true);
    server.setNoDelay(true);
    const up = new Leg('up', client, server, this);
    const down = new Leg('down', server, client, this);
    const ftp: FtpControl | undefined =
      this.options.ftp && channel === 'control'
        ? {
            upLines: new LineBuffer(),
            downLines: new LineBuffer(),
            downChain: Promise.resolve(),
            raw: false,
            shuttingDown: false,
            closingUpload: false,
          }
        : undefined;
    const pair: Pair = {
      channel,
      client,
      server,
      up,
      down,
      dead: false,
      stalled: false,
      control,
      ftp,
      dataPairs: new Set(),
      dataListeners: new Map(),
      closed: 0,
    };
    up.pair = pair;
    down.pair = pair;
    this.pairs.add(pair);
    control?.dataPairs.add(pair);

    client.on('data', (chunk: Buffer) => this.fromClient(pair, chunk));
    server.on('data', (chunk: Buffer) => this.fromServer(pair, chunk));
    client.on('end', () => this.ended(pair, 'up'));
    server.on('end', () => this.ended(pair, 'down'));
    for (const socket of [client, server]) {
      // An error (a reset, a refused connect) on one side ends the other at once.
      socket.on('error', () => this.destroy(pair, false));
      socket.on('close', () => this.socketClosed(pair));
    }
  }

  private fromClient(pair: Pair, chunk: Buffer): void {
    if (pair.dead || pair.stalled) return;
    const ftp = pair.ftp;
    if (ftp === undefined || ftp.raw) {
      pair.up.push(chunk);
      return;
    }
    for (const line of ftp.upLines.feed(chunk)) this.clientLine(pair, ftp, line);
  }

  private fromServer(pair: Pair, chunk: Buffer): void {
    if (pair.dead || pair.stalled) return;
    const ftp = pair.ftp;
    if (ftp === undefined) {
      pair.down.push(chunk);
      return;
    }
    // Even once raw, bytes go through the chain, behind any passive reply still waiting.
    const lines = ftp.raw ? [chunk] : ftp.downLines.feed(chunk);
    for (const line of lines)
      this.afterServerLines(pair, ftp, () => this.serverLine(pair, ftp, line));
  }

  /** Runs `step` after every server line before it was relayed. */
  private afterServerLines(pair: Pair, ftp: FtpControl, step: () => Promise<void> | void): void {
    ftp.downChain = ftp.downChain.then(step).catch(() => this.destroy(pair, false));
  }

  /** A side sent its FIN: pass it on once what came before it is relayed. */
  private ended(pair: Pair, direction: ProxyDirection): void {
    if (pair.dead || pair.stalled) return;
    const ftp = pair.ftp;
    if (direction === 'up') {
      if (ftp !== undefined && !ftp.raw) pair.up.push(ftp.upLines.take());
      const control = pair.channel === 'data' ? pair.control?.ftp : undefined;
      if (control !== undefined) control.closingUpload = true;
      pair.up.end();
      return;
    }
    if (ftp === undefined) {
      pair.down.end();
      return;
    }
    this.afterServerLines(pair, ftp, () => {
      if (!ftp.raw) pair.down.push(ftp.downLines.take());
      pair.down.end();
    });
  }

  /** A command from the client: relayed, or answered by the proxy (`reply`). */
  private clientLine(pair: Pair, ftp: FtpControl, line: Buffer): void {
    if (ftp.shuttingDown) return;
    const verb = verbOf(line);
    const reply = this.armed.find(
      (armed): armed is { fault: ReplyFault } =>
        armed.fault.kind === 'reply' && armed.fault.command.toUpperCase() === verb,
    );
    if (reply === undefined) {
      pair.up.push(line);
      return;
    }
    this.disarm(reply);
    this.stats.fired.push(describe(reply.fault));
    const { code } = reply.fault;
    if (code === 421) ftp.shuttingDown = true;
    // Behind any server line still on its way, so that replies keep their order.
    this.afterServerLines(pair, ftp, () => {
      pair.down.push(Buffer.from(`${code} injected transient failure\r\n`, 'latin1'));
      if (code === 421) this.shutDown(pair);
    });
  }

  /** A line (or, once raw, a chunk) from the server, relayed once its data listener is up. */
  private async serverLine(pair: Pair, ftp: FtpControl, line: Buffer): Promise<void> {
    if (pair.dead || pair.stalled) return;
    if (ftp.raw) {
      pair.down.push(line);
      return;
    }
    const passive = passiveReply(line);
    if (passive !== undefined) {
      const proxyPort = await this.openDataListener(pair, passive.port);
      pair.down.push(passive.rewrite(proxyPort));
      return;
    }
    pair.down.push(line);
    if (/^\d{3} /.test(line.toString('latin1'))) ftp.closingUpload = false; // a final reply
    if (line.toString('latin1').startsWith('234')) {
      // AUTH TLS accepted: what follows is TLS, which only the two ends can read. The server's
      // bytes already split into lines are behind this one in the chain; the partial line
      // left goes after them, and later chunks after it.
      ftp.raw = true;
      pair.up.push(ftp.upLines.take());
      this.afterServerLines(pair, ftp, () => pair.down.push(ftp.downLines.take()));
    }
  }

  /** Like a server shutting down after its 421: the control connection ends, its data too. */
  private shutDown(pair: Pair): void {
    pair.down.end();
    pair.server.destroy();
    for (const data of [...pair.dataPairs]) this.destroy(data, true);
    this.closeDataListeners(pair);
    this.later(SHUTDOWN_GRACE_MS, () => this.destroy(pair, false));
  }

  /**
   * Listens on a fresh loopback port for the client's data connection to the server's passive
   * `serverPort`; resolves with the proxy's port. One connection per listener, as a server's
   * passive port; closed when unused for a few seconds or when its control connection ends.
   */
  private async openDataListener(control: Pair, serverPort: number): Promise<number> {
    const listener = createServer({ allowHalfOpen: true, pauseOnConnect: false });
    listener.on('error', () => undefined);
    const state: { idle: NodeJS.Timeout | undefined; open: boolean } = {
      idle: undefined,
      open: true,
    };
    const forget = (): void => {
      if (state.idle !== undefined) this.cancel(state.idle);
      control.dataListeners.delete(listener);
      if (state.open) listener.close();
      state.open = false;
    };
    listener.on('connection', (client: Socket) => {
      client.on('error', () => undefined);
      forget();
      if (control.dead || this.closing) {
        client.destroy();
        return;
      }
      this.stats.dataConnections += 1;
      this.relay('data', client, serverPort, control);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, LOOPBACK, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const address = listener.address();
    if (control.dead || this.closing || address === null || typeof address === 'string') {
      listener.close();
      throw new Error('the control connection ended before its data listener was up');
    }
    control.dataListeners.set(listener, forget);
    state.idle = this.later(DATA_LISTENER_IDLE_MS, forget);
    return address.port;
  }

  private closeDataListeners(pair: Pair): void {
    for (const forget of [...pair.dataListeners.values()]) forget();
  }

  /**
   * Writes `data` on `leg`, counting it against the armed cut and stall faults of its channel
   * and direction: the bytes up to a fault's limit go out, then it fires.
   */
  transmit(leg: Leg, pair: Pair, data: Buffer): void {
    if (pair.channel === 'data' && leg.direction === 'up' && this.overlapping(pair)) return;
    let rest = data;
    while (rest.length > 0) {
      const matching = this.armed.filter(
        (armed): armed is { fault: ByteFault; remaining: number } =>
          (armed.fault.kind === 'cut' || armed.fault.kind === 'stall') &&
          armed.fault.channel === pair.channel &&
          armed.fault.direction === leg.direction,
      );
      const next = Math.min(...matching.map((armed) => armed.remaining));
      if (matching.length === 0 || next > rest.length) {
        for (const armed of matching) armed.remaining -= rest.length;
        leg.write(rest);
        return;
      }
      leg.write(rest.subarray(0, next));
      rest = rest.subarray(next);
      for (const armed of matching) armed.remaining -= next;
      for (const armed of matching.filter((candidate) => candidate.remaining === 0)) {
        this.disarm(armed);
        this.stats.fired.push(describe(armed.fault));
        if (armed.fault.kind === 'cut') this.destroy(pair, true);
        else this.stall(pair, armed.fault.forMs);
      }
      if (pair.dead || pair.stalled) return;
    }
  }

  /** Fires an armed cut-overlapping on `pair` when another upload is closing; true if it did. */
  private overlapping(pair: Pair): boolean {
    const armed = this.armed.find((candidate) => candidate.fault.kind === 'cut-overlapping');
    if (armed === undefined) return false;
    const closing = [...this.pairs].some(
      (other) => other !== pair.control && other.ftp?.closingUpload === true && !other.dead,
    );
    if (!closing) return false;
    this.disarm(armed);
    this.stats.fired.push(describe(armed.fault));
    this.destroy(pair, true);
    return true;
  }

  /** Turns a connection into a black hole for `forMs`, then destroys it. */
  private stall(pair: Pair, forMs: number): void {
    if (pair.dead || pair.stalled) return;
    pair.stalled = true;
    pair.up.drop();
    pair.down.drop();
    this.later(forMs, () => this.destroy(pair, true));
  }

  /** Destroys a pair (with a reset for a fault), and a control connection's data connections. */
  private destroy(pair: Pair, asFault: boolean): void {
    if (pair.dead) return;
    pair.dead = true;
    pair.up.drop();
    pair.down.drop();
    const sockets = [pair.client, pair.server];
    if (asFault) {
      // A reset that reaches a peer before it has read the last bytes relayed shows there as
      // an early end of stream, not a reset (Linux, loopback): relay and read nothing more,
      // and reset once the peers have had a moment to read what they were sent.
      for (const socket of sockets) socket.pause();
      this.later(RESET_GRACE_MS, () => sockets.forEach(reset));
    } else {
      for (const socket of sockets) socket.destroy();
    }
    for (const data of [...pair.dataPairs]) this.destroy(data, asFault);
    this.closeDataListeners(pair);
  }

  private socketClosed(pair: Pair): void {
    pair.closed += 1;
    if (pair.closed < 2) return;
    pair.dead = true;
    pair.up.drop();
    pair.down.drop();
    this.pairs.delete(pair);
    pair.control?.dataPairs.delete(pair);
    this.closeDataListeners(pair);
  }

  private disarm(armed: Armed): void {
    this.armed = this.armed.filter((candidate) => candidate !== armed);
  }

  private endSlow(): void {
    if (this.slow === undefined) return;
    clearTimeout(this.slow.timer);
    this.slow = undefined;
    // Bytes held back by the slow-down go out at full speed.
    for (const pair of this.pairs) {
      pair.up.pump();
      pair.down.pump();
    }
  }

  /** A timer that close() clears. */
  private later(ms: number, action: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
    return timer;
  }

  private cancel(timer: NodeJS.Timeout): void {
    clearTimeout(timer);
    this.timers.delete(timer);
  }
}

/**
 * Starts a fault proxy on a free port of 127.0.0.1 in front of the server on
 * 127.0.0.1:`targetPort`; see {@link ProxyFault} for what it can do to the traffic.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  checkCount('targetPort', options.targetPort, 1);
  const listener = createServer({ allowHalfOpen: true });
  const core = new ProxyCore(options, listener);
  listener.on('connection', (client: Socket) => core.acceptControl(client));
  listener.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, LOOPBACK, () => {
      listener.off('error', reject);
      resolve();
    });
  });
  const address = listener.address();
  if (address === null || typeof address === 'string') {
    listener.close();
    throw new Error('fault proxy: not listening on a TCP port');
  }
  return {
    port: address.port,
    stats: core.stats,
    arm: (fault) => core.arm(fault),
    pending: () => core.pending(),
    clear: () => core.clear(),
    close: () => core.close(),
  };
}
