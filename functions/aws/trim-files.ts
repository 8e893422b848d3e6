import type { TransferEvent } from '../../shared/notify';

/** An event as it will be sent, and how many of its files were left out to make it fit. */
export interface TrimmedEvent {
  event: TransferEvent;
  /** Files left out of `event.files` (0 when it fitted whole). */
  omitted: number;
}

/**
 * Keeps as many of the event's files (the first ones) as let `fits` accept it, and says so in
 * the message (`(N more files not listed)`). Undefined when it does not fit even without files.
 * The files are the only part of an event that grows without bound (a CO archive of hundreds
 * of answers); the rest is a few hundred bytes.
 */
export function trimFiles(
  event: TransferEvent,
  fits: (candidate: TrimmedEvent) => boolean,
): TrimmedEvent | undefined {
  const whole = { event, omitted: 0 };
  if (fits(whole)) return whole;
  const files = event.files ?? [];
  const keeping = (keep: number): TrimmedEvent => {
    const omitted = files.length - keep;
    return {
      event: {
        ...event,
        files: files.slice(0, keep),
        message: `${event.message} (${omitted} more file${omitted === 1 ? '' : 's'} not listed)`,
      },
      omitted,
    };
  };
  // The largest number of files that fits, found by halving: the check serialises the event.
  let low = 0;
  let high = files.length - 1;
  let best: TrimmedEvent | undefined;
  while (low <= high) {
    const middle = Math.floor((low + high) / 2);
    const candidate = keeping(middle);
    if (fits(candidate)) {
      best = candidate;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return best;
}
