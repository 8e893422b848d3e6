/** Defensive reads of what ssh2 hands over: error fields, internals it has no types for. */

export function property(error: unknown, name: string): unknown {
  return typeof error === 'object' && error !== null ? Reflect.get(error, name) : undefined;
}

/** Duck-typed, not `instanceof Error`: errors from Node's core can come from another realm. */
export function messageOf(error: unknown): string {
  const message = property(error, 'message');
  return typeof message === 'string' ? message : String(error);
}
