import { runInThisContext } from 'node:vm';

/**
 * Jest runs each test file in a VM context whose `Error` is not the one
 * Node's core builds its errors with, so a socket error is not
 * `instanceof Error` there. basic-ftp relies on that test to tell a socket
 * failure from a server reply: without this bridge, a connection dropped in
 * the middle of a transfer leaves the transfer's promise pending forever
 * (in tests only; production has one realm). This widens `instanceof Error`,
 * and only on `Error` itself, to Node's own errors. Call it at the top of any
 * test file that drives basic-ftp; calling it again does nothing.
 */
export function bridgeErrorRealms(): void {
  const NodeError = runInThisContext('Error') as ErrorConstructor;
  if (NodeError === Error || Object.prototype.hasOwnProperty.call(Error, Symbol.hasInstance)) {
    return;
  }
  const ordinary = Function.prototype[Symbol.hasInstance];
  Object.defineProperty(Error, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      return ordinary.call(this, value) || (this === Error && ordinary.call(NodeError, value));
    },
  });
}
