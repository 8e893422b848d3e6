/** The windowed SFTP upload: several write requests in flight, the CLOSE answer as proof. */
import type { Readable } from 'node:stream';
import type { SshSession } from './session';
import { Window } from './window';

/**
 * Writes `source` into the remote file `path` (created or truncated), several write requests
 * in flight, and closes it: the server's answer to CLOSE is the proof the file is complete,
 * like FTP's 226. ssh2's own createWriteStream is not used: it sends one request at a time,
 * and reports 'finish' before the server has answered CLOSE.
 */
export async function upload(
  session: SshSession,
  source: Readable,
  path: string,
  context: string,
): Promise<number> {
  const { sftp } = session;
  const handle = await session.request<Buffer>(context, (done) => sftp.open(path, 'w', done));
  const { piece: pieceBytes, window: size } = session.upload;
  const window = new Window(size);
  let failure: unknown;
  let position = 0;
  try {
    for await (const chunk of source) {
      const data = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      for (let offset = 0; offset < data.length; offset += pieceBytes) {
        await window.slot();
        if (failure !== undefined) throw failure;
        // ssh2 copies the piece into its packet at once: the chunk is not held.
        const piece = data.subarray(offset, offset + pieceBytes);
        const at = position;
        position += piece.length;
        window.track(
          session
            .request<number>(context, (done) =>
              sftp.write(handle, piece, 0, piece.length, at, done),
            )
            .then(
              () => undefined,
              (error: unknown) => {
                failure ??= error;
              },
            ),
        );
      }
    }
    await window.idle();
    if (failure !== undefined) throw failure;
    await session.request<void>(context, (done) => sftp.close(handle, done));
    return position;
  } catch (error) {
    await window.idle();
    // Leave the session usable: the handle is closed when the connection still stands.
    if (session.alive) {
      await session
        .request<void>(context, (done) => sftp.close(handle, done))
        .catch(() => undefined);
    }
    throw error;
  }
}
