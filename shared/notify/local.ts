import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Notifier, TransferEvent } from './events';

/**
 * Appends each event as one JSON line to a file (flushed to disk), the local
 * stand-in for EventBridge: other tools can tail it.
 */
export function jsonLinesNotifier(path: string): Notifier {
  return {
    async notify(event: TransferEvent): Promise<void> {
      await mkdir(dirname(path), { recursive: true });
      const handle = await open(path, 'a', 0o640);
      try {
        await handle.write(`${JSON.stringify(event)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
    },
  };
}

/** Writes each event's message as one line, for a person at a terminal. */
export function consoleNotifier(write: (line: string) => void): Notifier {
  return {
    async notify(event: TransferEvent): Promise<void> {
      write(`${event.type}: ${event.message}\n`);
    },
  };
}

/** Sends each event to every notifier, in order. */
export function fanOut(...notifiers: Notifier[]): Notifier {
  return {
    async notify(event: TransferEvent): Promise<void> {
      for (const notifier of notifiers) await notifier.notify(event);
    },
  };
}

/** Keeps events in memory, for tests. */
export function memoryNotifier(): Notifier & { events: TransferEvent[] } {
  const events: TransferEvent[] = [];
  return {
    events,
    async notify(event: TransferEvent): Promise<void> {
      events.push(event);
    },
  };
}
