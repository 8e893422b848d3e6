import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';

/** One timed run of a command: wall time and, under GNU time, peak RSS. */
export interface Run {
  seconds: number;
  rssMiB: number | undefined;
}

const TIME = '/usr/bin/time';

/**
 * Runs a command once and measures it: wall time, and peak RSS through GNU
 * time when it is installed. Throws with the command's output when it fails.
 */
export function timed(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const useTime = existsSync(TIME);
  const started = process.hrtime.bigint();
  const result = useTime
    ? spawnSync(TIME, ['-f', '__rss %M', command, ...args], { encoding: 'utf8', env })
    : spawnSync(command, args, { encoding: 'utf8', env });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}${result.stdout}`);
  const rss = /__rss (\d+)/.exec(result.stderr ?? '');
  return { seconds, rssMiB: rss ? Number(rss[1]) / 1024 : undefined };
}

/** Runs a measure `runs` times (with `after` between) and keeps the median time and top RSS. */
export function median(runs: number, measure: () => Run, after: () => void = () => undefined): Run {
  const results: Run[] = [];
  for (let i = 0; i < runs; i += 1) {
    results.push(measure());
    after();
  }
  const sorted = [...results].sort((a, b) => a.seconds - b.seconds);
  const rss = results.map((r) => r.rssMiB).filter((v): v is number => v !== undefined);
  return {
    seconds: (sorted[Math.floor(sorted.length / 2)] as Run).seconds,
    rssMiB: rss.length ? Math.max(...rss) : undefined,
  };
}

/** Writes `size` bytes made of `block` repeated. */
export function writeRepeated(path: string, block: Buffer, size: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < size; written += block.length) {
      writeSync(fd, block, 0, Math.min(block.length, size - written));
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads a file once so that every tool measured after reads it from the page cache. */
export function warmCache(path: string): void {
  spawnSync('sh', ['-c', 'cat "$1" > /dev/null', 'sh', path]);
}

/** Whether OpenSSL accepts a base64 FS as the detached signature of a file. */
export function opensslAccepts(fi: string, fs: string): boolean {
  const check = spawnSync(
    'sh',
    [
      '-c',
      'base64 -d < "$2" > "$2.der" && openssl cms -verify -binary -inform DER -in "$2.der" -content "$1" -noverify -out /dev/null',
      'sh',
      fi,
      fs,
    ],
    { encoding: 'utf8' },
  );
  return check.status === 0;
}
