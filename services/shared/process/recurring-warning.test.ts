import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { recurringWarning } from './recurring-warning.js';

function keptLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('recurringWarning', () => {
  it('writes the first occurrence at once, then one line per interval with the count', async () => {
    const { log, lines } = keptLog();
    const warning = recurringWarning('owners unresolved', 100);
    for (let i = 0; i < 1000; i++) warning.record(log, { owners: i });
    expect(lines.map((l) => [l.msg, l.count, l.owners])).toEqual([['owners unresolved', 1, 0]]);
    await sleep(150);
    expect(lines.map((l) => [l.count, l.owners, l.interval_ms])).toEqual([
      [1, 0, undefined],
      [999, 999, 100],
    ]);
    // Every occurrence is counted exactly once.
    expect(lines.reduce((sum, l) => sum + Number(l.count), 0)).toBe(1000);
  });

  it('goes quiet after an interval without occurrences, and starts again at once', async () => {
    const { log, lines } = keptLog();
    const warning = recurringWarning('x', 50);
    warning.record(log);
    await sleep(120);
    expect(lines).toHaveLength(1);
    warning.record(log);
    expect(lines.map((l) => l.count)).toEqual([1, 1]);
  });
});
