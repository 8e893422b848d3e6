/** The windowed SFTP download: positioned reads ahead with slow start, resumable at any byte. */
import type { DestinationRelay } from '../destination-relay';
import type { SshSession } from './session';

/**
 * Reads the remote file `path` from `delivery.bytes` to its end into `delivery`, up to a
 * window of read requests in flight (one at first, doubling with each full piece). A short
 * read (fewer bytes than asked, allowed by SFTP, and how the last piece ends) restarts the
 * read-ahead from where the data stopped; an empty read is the end of the file.
 */
export async function download(
  session: SshSession,
  path: string,
  delivery: DestinationRelay,
  context: string,
): Promise<void> {
  const { sftp } = session;
  const handle = await session.request<Buffer>(context, (done) => sftp.open(path, 'r', done));
  const { piece, window } = session.download;
  const readAt = (position: number): Promise<Buffer> =>
    session.request<Buffer>(context, (done) =>
      sftp.read(handle, Buffer.allocUnsafe(piece), 0, piece, position, (error, bytes, buffer) =>
        done(error, error ? undefined : buffer.subarray(0, bytes)),
      ),
    );
  let ahead: { position: number; data: Promise<Buffer> }[] = [];
  const abandon = async (): Promise<void> => {
    const dropped = ahead;
    ahead = [];
    await Promise.allSettled(dropped.map((read) => read.data));
  };
  try {
    let next = delivery.bytes;
    // Slow start: an answer of a few bytes takes two requests, not a window's worth.
    let depth = 1;
    for (;;) {
      while (ahead.length < depth) {
        const read = { position: next, data: readAt(next) };
        read.data.catch(() => undefined); // awaited in turn, or abandoned
        ahead.push(read);
        next += piece;
      }
      const head = ahead.shift();
      if (head === undefined) break;
      const data = await head.data;
      if (data.length === 0) break;
      await delivery.write(data);
      if (data.length < piece) {
        await abandon();
        next = head.position + data.length;
        depth = 1;
      } else {
        depth = Math.min(window, depth * 2);
      }
    }
    await abandon();
    await session.request<void>(context, (done) => sftp.close(handle, done));
  } catch (error) {
    await abandon();
    if (session.alive) {
      await session
        .request<void>(context, (done) => sftp.close(handle, done))
        .catch(() => undefined);
    }
    throw error;
  }
}
