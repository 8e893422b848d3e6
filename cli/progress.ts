import cliProgress from 'cli-progress';
import type { SendEvent } from '../shared/send/send-types';

const MB = 1_000_000;

/**
 * Progress bars for a send, one per file being uploaded (bytes, MB/s, ETA),
 * on the terminal's stderr, drawn only when `enabled` (a terminal, no JSON).
 * Retries and removals of files are told through `log` in every mode: an
 * operator must see them. Returns an event handler and a `stop` to call when
 * the send ends.
 */
export function sendProgress(
  enabled: boolean,
  log: (line: string) => void = () => undefined,
): { onEvent: (e: SendEvent) => void; stop: () => void } {
  const tell = (event: SendEvent) => {
    if (event.type === 'retry') {
      log(
        `retrying ${event.name} in ${event.delayMs} ms (attempt ${event.attempt}: ${event.reason})\n`,
      );
    } else if (event.type === 'cleanup') {
      log(`removed ${event.name} from the server\n`);
    }
  };
  if (!enabled) return { onEvent: tell, stop: () => undefined };
  const bars = new cliProgress.MultiBar(
    {
      stream: process.stderr,
      format:
        '{name} [{bar}] {percentage}% | {done}/{size} MB | {speed} MB/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  const open = new Map<string, { bar: cliProgress.SingleBar; started: number }>();
  const onEvent = (event: SendEvent) => {
    tell(event);
    if (event.type !== 'progress') return;
    let entry = open.get(event.name);
    if (entry === undefined) {
      entry = {
        bar: bars.create(event.total, 0, {
          name: event.name,
          done: '0.0',
          size: (event.total / MB).toFixed(1),
          speed: '-',
        }),
        started: Date.now(),
      };
      open.set(event.name, entry);
    }
    const seconds = Math.max((Date.now() - entry.started) / 1000, 0.001);
    entry.bar.update(event.bytes, {
      done: (event.bytes / MB).toFixed(1),
      speed: (event.bytes / MB / seconds).toFixed(0),
    });
  };
  return { onEvent, stop: () => bars.stop() };
}
