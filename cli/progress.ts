import cliProgress from 'cli-progress';
import type { SendEvent } from '../shared/send/send-declaration';

const MB = 1_000_000;

/**
 * Progress bars for a send, one per file being uploaded (bytes, MB/s, ETA),
 * on the terminal's stderr. Returns an event handler and a `stop` to call
 * when the send ends; when disabled (JSON output, not a TTY) both do nothing.
 */
export function sendProgress(enabled: boolean): {
  onEvent: (e: SendEvent) => void;
  stop: () => void;
} {
  if (!enabled) return { onEvent: () => undefined, stop: () => undefined };
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
