import { Readable } from 'node:stream';
import {
  TransportConnectError,
  type Transport,
  type TransportConnector,
} from '../../shared/transport';

/** A failure to inject into one kind of operation on matching paths. */
export interface Fault {
  op: 'put' | 'size' | 'list' | 'delete';
  path: RegExp;
  /** How many matching calls fail (then it passes). */
  times: number;
  /** For put: bytes read from the stream before failing (0 = fail at once). */
  afterBytes?: number;
  /** The error thrown; default a transient connection failure. */
  error?: () => Error;
  /** For put: write the file anyway, then fail (the reply is lost, not the data). */
  landAnyway?: boolean;
  /**
   * For put: a real failure instead of an injected one. The upload runs on the real
   * transport; once `afterBytes` have gone out, `act` runs (a server drops the session, a
   * firewall cuts it) before any further byte, and the transport meets whatever follows.
   */
  act?: () => void | Promise<void>;
}

/**
 * Passes `source` through, running `act` once before the first byte beyond `afterBytes`. It
 * reads the source only as the transport reads it: the upload is under way when `act` runs.
 */
function actingAfter(
  source: Readable,
  afterBytes: number,
  act: () => void | Promise<void>,
): Readable {
  async function* relay(): AsyncGenerator<Buffer> {
    let seen = 0;
    let acted = false;
    for await (const chunk of source) {
      const bytes = chunk as Buffer;
      const head = afterBytes - seen;
      seen += bytes.length;
      if (acted || seen <= afterBytes) {
        yield bytes;
        continue;
      }
      acted = true;
      if (head > 0) yield bytes.subarray(0, head);
      await act();
      yield bytes.subarray(Math.max(head, 0));
    }
  }
  return Readable.from(relay(), { objectMode: false });
}

/**
 * Wraps a connector and makes chosen operations fail, the way a network or a
 * server does: a put that dies after N bytes, a reply that never comes back.
 * Every call is logged (`op path`) so tests can assert on what was sent.
 */
export function faultyConnector(
  inner: TransportConnector,
  faults: Fault[],
): TransportConnector & { calls: string[] } {
  const calls: string[] = [];
  const failing = (op: Fault['op'], path: string) => {
    const fault = faults.find((f) => f.op === op && f.path.test(path) && f.times > 0);
    if (fault) fault.times -= 1;
    return fault;
  };
  const fail = (fault: Fault) =>
    fault.error?.() ?? new TransportConnectError(`injected failure`, { cause: undefined });
  return {
    calls,
    describe: () => `faulty ${inner.describe()}`,
    async connect(): Promise<Transport> {
      const transport = await inner.connect();
      return {
        async put(source: Readable, path: string) {
          calls.push(`put ${path}`);
          const fault = failing('put', path);
          if (!fault) return transport.put(source, path);
          if (fault.act) {
            return transport.put(actingAfter(source, fault.afterBytes ?? 0, fault.act), path);
          }
          if (fault.landAnyway) {
            await transport.put(source, path);
            throw fail(fault);
          }
          let seen = 0;
          for await (const chunk of source) {
            seen += (chunk as Buffer).length;
            if (seen >= (fault.afterBytes ?? 0)) break;
          }
          source.destroy();
          throw fail(fault);
        },
        async size(path) {
          calls.push(`size ${path}`);
          const fault = failing('size', path);
          if (fault) throw fail(fault);
          return transport.size(path);
        },
        async list(folder) {
          calls.push(`list ${folder}`);
          const fault = failing('list', folder);
          if (fault) throw fail(fault);
          return transport.list(folder);
        },
        get: (path, destination) => transport.get(path, destination),
        async delete(path) {
          calls.push(`delete ${path}`);
          const fault = failing('delete', path);
          if (fault) throw fail(fault);
          return transport.delete(path);
        },
        rename: (from, to) => transport.rename(from, to),
        close: () => transport.close(),
      };
    },
  };
}
