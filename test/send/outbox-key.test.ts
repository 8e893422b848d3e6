import { NameRuleError } from '../../shared/names';
import { declarationFromOutboxKey, OutboxKeyError } from '../../shared/send';

const layout = { prefix: 'outbox/', sender: '123456', rules: { today: '20261125' } };

describe('declarationFromOutboxKey', () => {
  it.each([
    {
      title: 'a name by the rules',
      key: 'outbox/FI.DMFA.123456.20261125.00007.T.1.1',
      expected: { app: 'DMFA', sender: '123456', env: 'T', date: '20261125', seq: '00007' },
    },
    {
      title: 'a name by the rules whose part count the plan will decide again',
      key: 'outbox/FI.DIMN.123456.20261124.00001.R.2.1',
      expected: { app: 'DIMN', sender: '123456', env: 'R', date: '20261124', seq: '00001' },
    },
    {
      title: 'the APP/ENV layout',
      key: 'outbox/DMFA/R/payroll-november.xml',
      expected: { app: 'DMFA', sender: '123456', env: 'R' },
    },
    {
      title: 'the APP/ENV layout with sub-folders',
      key: 'outbox/DRS/S/2026/11/batch 1.xml',
      expected: { app: 'DRS', sender: '123456', env: 'S' },
    },
  ])('reads $title', ({ key, expected }) => {
    expect(declarationFromOutboxKey(key, layout)).toEqual(expected);
  });

  it.each(['outbox/', 'outbox/DMFA/', 'outbox/DMFA/T/'])('ignores the folder key %s', (key) => {
    expect(declarationFromOutboxKey(key, layout)).toBeUndefined();
  });

  it.each([
    { title: 'a key outside the outbox', key: 'responses/FI.DMFA.123456.20261125.00001.T.1.1' },
    { title: 'a bare file name', key: 'outbox/payroll.xml' },
    { title: 'an FS name', key: 'outbox/FS.DMFA.123456.20261125.00001.T.1.1' },
    { title: 'a lower-case application folder', key: 'outbox/dmfa/T/x.xml' },
    { title: 'an unknown environment folder', key: 'outbox/DMFA/P/x.xml' },
    { title: 'an empty folder', key: 'outbox/DMFA/T//x.xml' },
  ])('refuses $title with OUTBOX_KEY_LAYOUT', ({ key }) => {
    const act = () => declarationFromOutboxKey(key, layout);
    expect(act).toThrow(OutboxKeyError);
    expect(act).toThrow(/FI\.APP\.SENDER/);
  });

  it.each([
    {
      title: 'another sender',
      key: 'outbox/FI.DMFA.654321.20261125.00001.T.1.1',
      code: 'ACRF-108',
    },
    {
      title: 'a date in the future',
      key: 'outbox/FI.DMFA.123456.20261126.00001.T.1.1',
      code: 'ACRF-111',
    },
  ])('refuses an FI name with $title with its ACRF code', ({ key, code }) => {
    let caught: unknown;
    try {
      declarationFromOutboxKey(key, layout);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NameRuleError);
    expect(caught).toMatchObject({ code });
  });
});
