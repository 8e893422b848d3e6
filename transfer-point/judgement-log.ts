/**
 * The local transfer point's judgements, kept in arrival order, and the callers waiting for
 * one: each judgement is handed to the first waiter whose predicate matches, or kept for the
 * next caller that asks, and never handed out twice.
 */
import { SIMULATOR_DEFAULTS } from './constants';
import {
  SIMULATOR_CODES,
  SimulatorOptionsError,
  SimulatorStoppedError,
  SimulatorTimeoutError,
} from './errors';
import type { Judgement, JudgementPredicate } from './types';

interface Waiter {
  predicate: JudgementPredicate;
  resolve: (judgement: Judgement) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const MAX_TIMER_MS = 2_147_483_647;

/** Judgements so far and the callers waiting for the next matching one. */
export class JudgementLog {
  private readonly judged: Judgement[] = [];
  private readonly delivered = new Set<Judgement>();
  private waiters: Waiter[] = [];
  private closed = false;

  /** Every judgement so far, in arrival order. */
  get all(): readonly Judgement[] {
    return [...this.judged];
  }

  /** Records a new judgement and hands it to the first waiter it matches. */
  record(judgement: Judgement): void {
    this.judged.push(judgement);
    this.deliver(judgement);
  }

  /** Refuses every waiter and every later wait: the transfer point stopped. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new SimulatorStoppedError('a caller waited for a judgement'));
    }
    this.waiters = [];
  }

  /** The first judgement not yet handed out that matches, now or when it comes. */
  waitFor(
    predicate: JudgementPredicate = () => true,
    timeoutMs: number = SIMULATOR_DEFAULTS.waitTimeoutMs,
  ): Promise<Judgement> {
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) {
      return Promise.reject(
        new SimulatorOptionsError(
          'timeoutMs',
          `must be from 0 to ${MAX_TIMER_MS} ms`,
          SIMULATOR_CODES.SCRIPT_INVALID,
        ),
      );
    }
    if (this.closed) return Promise.reject(new SimulatorStoppedError('waiting for a judgement'));
    try {
      const found = this.judged.find((item) => !this.delivered.has(item) && predicate(item));
      if (found) {
        this.delivered.add(found);
        return Promise.resolve(found);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Judgement>((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((other) => other !== waiter);
          const seen = this.judged.map((item) => item.goName).join(', ') || 'none';
          reject(
            new SimulatorTimeoutError(
              `no matching judgement within ${timeoutMs} ms (judged so far: ${seen})`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private deliver(judgement: Judgement): void {
    for (const waiter of [...this.waiters]) {
      let matches: boolean;
      try {
        matches = waiter.predicate(judgement);
      } catch (error) {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        clearTimeout(waiter.timer);
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      if (matches) {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        clearTimeout(waiter.timer);
        this.delivered.add(judgement);
        waiter.resolve(judgement);
        return;
      }
    }
  }
}
