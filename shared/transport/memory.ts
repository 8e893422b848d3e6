import type { Readable, Writable } from 'node:stream';
import { checkRemotePath } from './paths';
import { TransportNotFoundError } from './errors';
import type { RemoteEntry, Transport, TransportConnector } from './port';

/** An in-memory server: remote path -> content. */
export type MemoryFiles = Map<string, Buffer>;

/**
 * A Transport over a Map, for unit tests of the pipelines and for dry runs:
 * the same semantics as the network adapters (paths relative to the home
 * folder, `delete` false when absent, `size` undefined when absent) without
 * a server. It keeps whole files in memory, so it is not for large data.
 */
export function memoryConnector(files: MemoryFiles = new Map()): TransportConnector & {
  files: MemoryFiles;
} {
  const transport: Transport = {
    async put(source: Readable, remotePath: string): Promise<number> {
      const path = checkRemotePath(remotePath);
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(Buffer.from(chunk as Buffer));
      const content = Buffer.concat(chunks);
      files.set(path, content);
      return content.length;
    },
    async size(remotePath) {
      return files.get(checkRemotePath(remotePath))?.length;
    },
    async list(remoteFolder): Promise<RemoteEntry[]> {
      const prefix = `${checkRemotePath(remoteFolder)}/`;
      return [...files.entries()]
        .filter(([path]) => path.startsWith(prefix) && !path.slice(prefix.length).includes('/'))
        .map(([path, content]) => ({
          name: path.slice(prefix.length),
          size: content.length,
          type: 'file',
        }));
    },
    async get(remotePath: string, destination: Writable): Promise<number> {
      const content = files.get(checkRemotePath(remotePath));
      if (content === undefined) {
        throw new TransportNotFoundError(`no file ${remotePath}`, {});
      }
      await new Promise<void>((resolve, reject) =>
        destination.end(content, (error?: Error | null) => (error ? reject(error) : resolve())),
      );
      return content.length;
    },
    async delete(remotePath) {
      return files.delete(checkRemotePath(remotePath));
    },
    async rename(fromPath, toPath) {
      const content = files.get(checkRemotePath(fromPath));
      if (content === undefined) throw new TransportNotFoundError(`no file ${fromPath}`, {});
      files.delete(fromPath);
      files.set(checkRemotePath(toPath), content);
    },
    async close() {},
  };
  return { files, connect: async () => transport, describe: () => 'memory://' };
}
