/**
 * Capturing what the product writes, for the leak test: the process's own output streams and
 * console (where Powertools' logger writes its JSON lines), and every textual form a thrown
 * error can take in a log or a terminal.
 */
import { format, inspect } from 'node:util';
import type { Captured } from './known-secrets';

/** A running capture of stdout, stderr and the console. */
export interface OutputCapture {
  /** What was written since the capture started. */
  text(): string;
  /** Puts the streams and console back; the text stays readable. */
  restore(): void;
}

type Write = typeof process.stdout.write;
const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

/**
 * Replaces `process.stdout.write`, `process.stderr.write` and the console's methods by
 * recorders (nothing reaches the terminal meanwhile). Powertools' logger writes through a
 * `Console` on `process.stdout` (or through the global console in its dev mode): both land here.
 */
export function captureOutput(): OutputCapture {
  const chunks: string[] = [];
  const record = (chunk: unknown): void => {
    chunks.push(
      typeof chunk === 'string'
        ? chunk
        : chunk instanceof Uint8Array
          ? Buffer.from(chunk).toString('utf8')
          : String(chunk),
    );
  };
  const recorder = ((chunk: unknown, ...rest: unknown[]): boolean => {
    record(chunk);
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  }) as Write;
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = recorder;
  process.stderr.write = recorder;
  const saved = CONSOLE_METHODS.map((method) => [method, console[method]] as const);
  for (const method of CONSOLE_METHODS) {
    console[method] = (...args: unknown[]) => record(`${format(...args)}\n`);
  }
  let restored = false;
  return {
    text: () => chunks.join(''),
    restore() {
      if (restored) return;
      restored = true;
      process.stdout.write = out;
      process.stderr.write = err;
      for (const [method, original] of saved) console[method] = original;
    },
  };
}

/** Runs `work` with the output captured; resolves with its result and the text written. */
export async function withCapturedOutput<T>(
  work: () => Promise<T>,
): Promise<{ result: T; output: string }> {
  const capture = captureOutput();
  try {
    const result = await work();
    return { result, output: capture.text() };
  } finally {
    capture.restore();
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch (error) {
    return `(JSON.stringify failed: ${String(error)})`;
  }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/**
 * Every text a thrown value can become: for it and each error of its `cause` chain, the name,
 * message, stack, `String()`, `JSON.stringify` of it and of its enumerable properties; then
 * `util.inspect` to depth 10, plain and with hidden properties.
 */
export function errorTexts(error: unknown): string[] {
  const texts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    for (const name of ['name', 'message', 'stack', 'code', 'reason']) {
      const value = field(current, name);
      if (value !== undefined) texts.push(`${name}: ${String(value)}`);
    }
    texts.push(String(current));
    texts.push(safeJson(current));
    if (typeof current === 'object') texts.push(safeJson({ ...current }));
    current = field(current, 'cause');
  }
  texts.push(inspect(error, { depth: 10 }));
  texts.push(inspect(error, { depth: 10, showHidden: true }));
  return texts;
}

/** Captured pieces of a thrown value, under one source label. */
export function capturedError(source: string, error: unknown): Captured {
  return { source, text: errorTexts(error).join('\n') };
}

/** Awaits `work`, which must fail, and returns what it threw. */
export async function thrownBy(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, but the work succeeded');
}
