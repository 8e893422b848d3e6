/** The watchdog: declarations that wait too long for their answers. */
export { DEFAULT_OVERDUE_RULES, findOverdue } from './overdue';
export type { Overdue, OverdueRules } from './overdue';
