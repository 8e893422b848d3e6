/**
 * Child process of large-response.test.ts: pulls the response folder of one server into a
 * store and prints, as one JSON line, what the pull did and how much memory it took. Run by
 * `node --max-old-space-size=64 -r test/helpers/swc-register.js`, so that the memory measured
 * is the pull's alone (not jest's, nor the FTP server's, which stays in the parent).
 *
 * argv[2]: JSON { host, port, user, password, store }.
 */
import { createMemoryLedger } from '../../shared/ledger';
import { memoryNotifier } from '../../shared/notify';
import { pullResponses } from '../../shared/pull';
import { localFolderStore } from '../../shared/store';
import { ftpConnector } from '../../shared/transport';

interface ChildConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  store: string;
}

const KIB = 1024;

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as ChildConfig;
  const notifier = memoryNotifier();
  // Every module is loaded by now: what grows from here is the pull's.
  const start = process.memoryUsage();
  const peak = { heapUsed: start.heapUsed, arrayBuffers: start.arrayBuffers, rss: start.rss };
  const sample = setInterval(() => {
    const now = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, now.heapUsed);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
    peak.rss = Math.max(peak.rss, now.rss);
  }, 20);
  const report = await pullResponses(
    { environments: ['T'] },
    {
      ledger: createMemoryLedger(),
      connector: ftpConnector({
        host: config.host,
        port: config.port,
        user: config.user,
        password: config.password,
      }),
      store: localFolderStore(config.store),
      notifier,
    },
  );
  clearInterval(sample);
  process.stdout.write(
    `${JSON.stringify({
      report,
      events: notifier.events.map((e) => e.type),
      memory: {
        // The kernel's peak resident set (KiB), which no sampling can miss.
        maxRss: process.resourceUsage().maxRSS * KIB,
        startRss: start.rss,
        startHeapUsed: start.heapUsed,
        peakHeapUsed: peak.heapUsed,
        peakArrayBuffers: peak.arrayBuffers,
        sampledPeakRss: peak.rss,
      },
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
