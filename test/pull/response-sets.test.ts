import { groupResponseSets } from '../../shared/pull/response-sets';
import type { RemoteEntry } from '../../shared/transport';

const file = (name: string, size = 10): RemoteEntry => ({ name, size, type: 'file' });
const A = 'ACRF.999999.20261125.00001.T';

describe('groupResponseSets', () => {
  it.each([
    {
      title: 'a complete 6-field set',
      input: [file(`FO.${A}`), file(`FS.${A}`), file(`GO.${A}`, 0)],
      expected: [{ id: A, complete: true, data: 1, signatures: 1, go: true }],
    },
    {
      title: 'a set without its GO yet',
      input: [file(`FO.${A}`), file(`FS.${A}`)],
      expected: [{ id: A, complete: false, data: 1, signatures: 1, go: false }],
    },
    {
      title: 'a GO without its data',
      input: [file(`GO.${A}`, 0)],
      expected: [{ id: A, complete: false, data: 0, signatures: 0, go: true }],
    },
    {
      title: 'a set with no FS is still complete (the signature is checked later)',
      input: [file(`FO.${A}`), file(`GO.${A}`, 0)],
      expected: [{ id: A, complete: true, data: 1, signatures: 0, go: true }],
    },
    {
      title: 'a 3-part set with all parts',
      input: [1, 2, 3]
        .flatMap((p) => [file(`FO.${A}.3.${p}`), file(`FS.${A}.3.${p}`)])
        .concat(file(`GO.${A}.3`, 0)),
      expected: [{ id: `${A}.3`, complete: true, data: 3, signatures: 3, go: true }],
    },
    {
      title: 'a 3-part set missing a part',
      input: [file(`FO.${A}.3.1`), file(`FO.${A}.3.3`), file(`GO.${A}.3`, 0)],
      expected: [{ id: `${A}.3`, complete: false, data: 2, signatures: 0, go: true }],
    },
    {
      title: 'a compressed answer of an unknown type',
      input: [file('CO.ZZZZ.999999.20261125.00002.R'), file('GO.ZZZZ.999999.20261125.00002.R', 0)],
      expected: [
        { id: 'ZZZZ.999999.20261125.00002.R', complete: true, data: 1, signatures: 0, go: true },
      ],
    },
    {
      title: 'two sets, sorted by id',
      input: [
        file('GO.NOTI.999999.20261125.00002.T', 0),
        file('FO.NOTI.999999.20261125.00002.T'),
        file(`GO.${A}`, 0),
        file(`FO.${A}`),
      ],
      expected: [
        { id: A, complete: true, data: 1, signatures: 0, go: true },
        { id: 'NOTI.999999.20261125.00002.T', complete: true, data: 1, signatures: 0, go: true },
      ],
    },
  ])('$title', ({ input, expected }) => {
    const { sets, foreign } = groupResponseSets(input);
    expect(foreign).toEqual([]);
    expect(
      sets.map((s) => ({
        id: s.id,
        complete: s.complete,
        data: s.data.length,
        signatures: s.signatures.length,
        go: s.go !== undefined,
      })),
    ).toEqual(expected);
  });

  it('keeps foreign names apart and never in a set', () => {
    const weird: RemoteEntry[] = [
      file('readme.txt'),
      file('FO.ACRF.999999.20261125.00001'),
      file('../FO.ACRF.999999.20261125.00001.T'),
      { name: 'link', size: 0, type: 'other' },
      { name: 'sub', size: 0, type: 'directory' },
    ];
    const { sets, foreign } = groupResponseSets([...weird, file(`FO.${A}`), file(`GO.${A}`, 0)]);
    expect(sets.map((s) => s.id)).toEqual([A]);
    expect(foreign.map((f) => f.name)).toEqual([
      'readme.txt',
      'FO.ACRF.999999.20261125.00001',
      '../FO.ACRF.999999.20261125.00001.T',
      'link',
    ]);
  });

  it('orders parts', () => {
    const { sets } = groupResponseSets([
      file(`FO.${A}.2.2`),
      file(`GO.${A}.2`, 0),
      file(`FO.${A}.2.1`),
    ]);
    expect(sets[0]?.data.map((d) => d.name)).toEqual([`FO.${A}.2.1`, `FO.${A}.2.2`]);
  });
});
