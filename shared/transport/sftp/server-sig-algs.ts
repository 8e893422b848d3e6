/** The hook on ssh2's server-sig-algs that the ssh-rsa fallback needs (see openWithFallback). */
import type { Client } from 'ssh2';
import { property } from './fields';

/**
 * Hooks ssh2's handler of the server's EXT_INFO message, which carries `server-sig-algs`:
 * the signature algorithms the server says it accepts for user keys. ssh2 signs with an RSA
 * key using the best one listed and never falls back, so a server that lists rsa-sha2-256
 * but only accepts ssh-rsa (OpenSSH with `PubkeyAcceptedAlgorithms ssh-rsa`, which still
 * lists every algorithm it knows) refuses the key. `onList` sees the list and returns the one
 * ssh2 uses. ssh2 has no public hook for this, so its internals are read defensively: when
 * they are not where expected, nothing is hooked and false is returned.
 */
export function hookServerSigAlgs(client: Client, onList: (algs: string[]) => string[]): boolean {
  const protocol = property(client, '_protocol');
  const handlers = property(protocol, '_handlers');
  const original = property(handlers, 'EXT_INFO');
  if (typeof original !== 'function' || typeof handlers !== 'object' || handlers === null) {
    return false;
  }
  Reflect.set(handlers, 'EXT_INFO', (self: unknown, extensions: unknown) => {
    const rewritten = Array.isArray(extensions)
      ? extensions.map((extension: unknown) => {
          const algs = property(extension, 'algs');
          if (property(extension, 'name') !== 'server-sig-algs' || !Array.isArray(algs)) {
            return extension;
          }
          return { name: 'server-sig-algs', algs: onList(algs.map(String)) };
        })
      : extensions;
    return Reflect.apply(original, undefined, [self, rewritten]);
  });
  return true;
}
