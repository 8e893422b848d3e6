import {
  backoffDelay,
  DEFAULT_RETRY_OPTIONS,
  resolveRetryOptions,
  retry,
  TransportAuthError,
  TransportConnectError,
  TransportRefusedError,
  TransportTimeoutError,
  type RetryOptions,
} from '../../shared/transport';

/** One scripted outcome per attempt: a value, or an error to throw. */
type Outcome = { value: string } | { error: unknown };

const transient = (): Outcome => ({ error: new TransportConnectError('connect: ECONNRESET') });
const permanent = (): Outcome => ({
  error: new TransportAuthError('connect: 530 Login incorrect'),
});
const ok = (value = 'done'): Outcome => ({ value });

/** Runs `retry` over a script with a fake sleep and a fixed jitter draw. */
async function run(script: Outcome[], options: Partial<RetryOptions> = {}) {
  const sleeps: number[] = [];
  const retries: Array<{ attempt: number; delayMs: number; error: unknown }> = [];
  const attemptsSeen: number[] = [];
  const promise = retry(
    async (attempt) => {
      attemptsSeen.push(attempt);
      const outcome = script[attempt - 1];
      if (!outcome) throw new Error(`script has no outcome for attempt ${attempt}`);
      if ('error' in outcome) throw outcome.error;
      return outcome.value;
    },
    {
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onRetry: (error, attempt, delayMs) => retries.push({ attempt, delayMs, error }),
      ...options,
    },
  );
  const settled = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  return { settled, sleeps, retries, attemptsSeen };
}

describe('backoffDelay: full jitter under an exponential ceiling', () => {
  const cases: Array<{
    title: string;
    attempt: number;
    base: number;
    max: number;
    random: number;
    expected: number;
  }> = [
    {
      title: 'first retry, top of the draw',
      attempt: 1,
      base: 500,
      max: 8000,
      random: 0.999999,
      expected: 499,
    },
    { title: 'first retry, half', attempt: 1, base: 500, max: 8000, random: 0.5, expected: 250 },
    {
      title: 'second retry doubles the ceiling',
      attempt: 2,
      base: 500,
      max: 8000,
      random: 0.5,
      expected: 500,
    },
    { title: 'third retry', attempt: 3, base: 500, max: 8000, random: 0.5, expected: 1000 },
    {
      title: 'capped by maxDelayMs',
      attempt: 10,
      base: 500,
      max: 8000,
      random: 0.5,
      expected: 4000,
    },
    {
      title: 'a draw of 0 waits nothing',
      attempt: 4,
      base: 500,
      max: 8000,
      random: 0,
      expected: 0,
    },
    { title: 'base 0 never waits', attempt: 3, base: 0, max: 8000, random: 0.9, expected: 0 },
    {
      title: 'base above max is capped',
      attempt: 1,
      base: 10_000,
      max: 300,
      random: 0.5,
      expected: 150,
    },
    {
      title: 'huge attempt numbers stay finite',
      attempt: 5000,
      base: 500,
      max: 8000,
      random: 0.25,
      expected: 2000,
    },
  ];
  it.each(cases)('$title', ({ attempt, base, max, random, expected }) => {
    expect(
      backoffDelay(attempt, { baseDelayMs: base, maxDelayMs: max, random: () => random }),
    ).toBe(expected);
  });
});

describe('retry', () => {
  const cases: Array<{
    title: string;
    script: Outcome[];
    options?: Partial<RetryOptions>;
    expected: { value: string } | { code: string };
    attempts: number;
    sleeps: number[];
  }> = [
    {
      title: 'success at once: no wait',
      script: [ok()],
      expected: { value: 'done' },
      attempts: 1,
      sleeps: [],
    },
    {
      title: 'two transient failures then success',
      script: [transient(), transient(), ok('third time')],
      expected: { value: 'third time' },
      attempts: 3,
      sleeps: [250, 500],
    },
    {
      title: 'transient failures exhaust the default 4 attempts',
      script: [transient(), transient(), transient(), transient(), ok()],
      expected: { code: 'TRANSPORT_CONNECT' },
      attempts: 4,
      sleeps: [250, 500, 1000],
    },
    {
      title: 'a permanent failure is not retried',
      script: [permanent(), ok()],
      expected: { code: 'TRANSPORT_AUTH' },
      attempts: 1,
      sleeps: [],
    },
    {
      title: 'a permanent failure after a transient one stops there',
      script: [transient(), permanent(), ok()],
      expected: { code: 'TRANSPORT_AUTH' },
      attempts: 2,
      sleeps: [250],
    },
    {
      title: 'a plain Error is not retried by default',
      script: [{ error: Object.assign(new Error('boom'), { code: 'X' }) }, ok()],
      expected: { code: 'X' },
      attempts: 1,
      sleeps: [],
    },
    {
      title: '4xx reply retried, 5xx not',
      script: [
        { error: new TransportRefusedError('put: 450 busy', 450) },
        { error: new TransportRefusedError('put: 553 not allowed', 553) },
        ok(),
      ],
      expected: { code: 'TRANSPORT_REFUSED' },
      attempts: 2,
      sleeps: [250],
    },
    {
      title: 'timeouts are retried',
      script: [{ error: new TransportTimeoutError('list: Timeout (control socket)') }, ok()],
      expected: { value: 'done' },
      attempts: 2,
      sleeps: [250],
    },
    {
      title: 'attempts 1 means no retry at all',
      script: [transient(), ok()],
      options: { attempts: 1 },
      expected: { code: 'TRANSPORT_CONNECT' },
      attempts: 1,
      sleeps: [],
    },
    {
      title: 'custom isRetryable decides',
      script: [{ error: new Error('flaky') }, ok('custom')],
      options: { isRetryable: (error) => error instanceof Error && error.message === 'flaky' },
      expected: { value: 'custom' },
      attempts: 2,
      sleeps: [250],
    },
    {
      title: 'maxDelayMs caps every wait',
      script: [transient(), transient(), transient(), transient(), transient(), ok()],
      options: { attempts: 6, baseDelayMs: 100, maxDelayMs: 300 },
      expected: { value: 'done' },
      attempts: 6,
      sleeps: [50, 100, 150, 150, 150],
    },
  ];

  it.each(cases)('$title', async ({ script, options, expected, attempts, sleeps }) => {
    const result = await run(script, options);

    if ('value' in expected) {
      expect(result.settled).toEqual({ value: expected.value });
    } else {
      expect('error' in result.settled).toBe(true);
      const { error } = result.settled as { error: { code?: unknown } };
      expect(error.code).toBe(expected.code);
      // The last failure comes back unchanged, not wrapped.
      const last = script[attempts - 1];
      expect(last && 'error' in last ? last.error : undefined).toBe(error);
    }
    expect(result.attemptsSeen).toEqual(Array.from({ length: attempts }, (_, i) => i + 1));
    expect(result.sleeps).toEqual(sleeps);
    expect(result.retries.map((r) => r.attempt)).toEqual(sleeps.map((_, i) => i + 1));
    expect(result.retries.map((r) => r.delayMs)).toEqual(sleeps);
  });

  it('tells onRetry the failure it is about to retry', async () => {
    const first = transient();
    const result = await run([first, ok()]);
    expect(result.retries).toEqual([
      { attempt: 1, delayMs: 250, error: (first as { error: unknown }).error },
    ]);
  });

  it('waits for real with the default sleep', async () => {
    const started = Date.now();
    let calls = 0;
    const value = await retry(
      async () => {
        calls += 1;
        if (calls === 1) throw new TransportConnectError('connect: ECONNRESET');
        return calls;
      },
      { baseDelayMs: 40, random: () => 0.99 },
    );
    expect(value).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(35);
  });
});

describe('resolveRetryOptions', () => {
  it('has the documented defaults', () => {
    const resolved = resolveRetryOptions();
    expect(resolved).toMatchObject({ attempts: 4, baseDelayMs: 500, maxDelayMs: 8000 });
    expect(resolved.isRetryable).toBe(DEFAULT_RETRY_OPTIONS.isRetryable);
  });

  it('ignores options given as undefined', () => {
    expect(resolveRetryOptions({ attempts: undefined, baseDelayMs: 10 })).toMatchObject({
      attempts: 4,
      baseDelayMs: 10,
    });
  });

  const refused: Array<{ title: string; options: Partial<RetryOptions>; message: RegExp }> = [
    { title: 'zero attempts', options: { attempts: 0 }, message: /attempts .* at least 1, got 0/ },
    { title: 'fractional attempts', options: { attempts: 2.5 }, message: /attempts/ },
    { title: 'NaN attempts', options: { attempts: Number.NaN }, message: /attempts/ },
    {
      title: 'negative base delay',
      options: { baseDelayMs: -1 },
      message: /baseDelayMs .* >= 0, got -1/,
    },
    { title: 'infinite max delay', options: { maxDelayMs: Infinity }, message: /maxDelayMs/ },
  ];
  it.each(refused)('refuses $title', ({ options, message }) => {
    expect(() => resolveRetryOptions(options)).toThrow(RangeError);
    expect(() => resolveRetryOptions(options)).toThrow(message);
  });

  it('refuses bad options in retry itself before the first attempt', async () => {
    let called = false;
    await expect(
      retry(
        async () => {
          called = true;
        },
        { attempts: 0 },
      ),
    ).rejects.toThrow(RangeError);
    expect(called).toBe(false);
  });
});
