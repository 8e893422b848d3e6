/**
 * Crash points inside our own process: every call a "Lambda instance" makes on its ports
 * (ledger, transport, store, notifier) is a step, before and after the call. A switch armed at
 * step N throws there, standing for a time-out or a kill at that instant: before the call
 * nothing of it happened, after it the call's effect is real but the instance never learns
 * it. From then on the instance is dead: every further step throws too, so no `finally` or
 * `catch` of the pipeline can tidy up behind the crash the way a killed process could not.
 */
import { Readable } from 'node:stream';

/** The injected crash, thrown at the armed step. */
export class InjectedCrash extends Error {
  constructor(readonly step: string) {
    super(`injected crash at ${step}`);
    this.name = 'InjectedCrash';
  }
}

/** What every call of a crashed instance meets. */
export class DeadInstance extends Error {
  constructor(step: string) {
    super(`the instance crashed earlier: ${step} never runs`);
    this.name = 'DeadInstance';
  }
}

/** The crash switch of one instance. */
export interface CrashSwitch {
  /** Steps taken so far, in order (`ledger.claim before`, `transport.put after`...). */
  readonly steps: readonly string[];
  /** The step the instance crashed at, once it has. */
  readonly crashedAt: string | undefined;
  /** Counts a step; throws at the armed one and at every one after it. */
  step(label: string): void;
}

/** A switch that crashes at step `crashAt` (1-based), or never when undefined. */
export function crashSwitch(crashAt: number | undefined): CrashSwitch {
  const steps: string[] = [];
  let crashedAt: string | undefined;
  return {
    steps,
    get crashedAt() {
      return crashedAt;
    },
    step(label) {
      if (crashedAt !== undefined) throw new DeadInstance(label);
      steps.push(label);
      if (steps.length === crashAt) {
        crashedAt = label;
        throw new InjectedCrash(label);
      }
    },
  };
}

/** How {@link crashable} treats some methods. */
export interface CrashableOptions {
  /** Synchronous methods, called as they are (no step). */
  plain?: readonly string[];
  /**
   * Methods that run even on a dead instance, then throw: a killed process's sockets and file
   * handles close with it (`close`).
   */
  always?: readonly string[];
  /** Wraps what an async method resolves with (a connector's transports). */
  wrapResult?: Readonly<Record<string, (value: unknown) => unknown>>;
}

/**
 * The port `target` with a step before and after each of its async methods, named
 * `${name}.${method} before|after`.
 */
export function crashable<T extends object>(
  target: T,
  name: string,
  crash: CrashSwitch,
  options: CrashableOptions = {},
): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value: unknown = Reflect.get(object, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      if (options.plain?.includes(property)) return value.bind(object) as unknown;
      const method = value as (...args: unknown[]) => unknown;
      const label = `${name}.${property}`;
      return async (...args: unknown[]): Promise<unknown> => {
        if (options.always?.includes(property) && crash.crashedAt !== undefined) {
          await Promise.resolve(method.apply(object, args)).catch(() => undefined);
          throw new DeadInstance(label);
        }
        try {
          crash.step(`${label} before`);
        } catch (error) {
          // A source handed to an upload that never ran would hold its file open.
          if (property === 'put')
            for (const arg of args) if (arg instanceof Readable) arg.destroy();
          throw error;
        }
        const result = await method.apply(object, args);
        crash.step(`${label} after`);
        const wrap = options.wrapResult?.[property];
        return wrap ? wrap(result) : result;
      };
    },
  });
}
