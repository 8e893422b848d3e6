/** The benchmark's declarations: fixed-width records and DmfA XML of any size. */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { sampleDmfaXml } from '../shared/demo/sample-dmfa';
import { todayInBrussels } from '../shared/names';
import { writeRepeated } from './measure';

const MIB = 1024 * 1024;

/** Fixed-width records, as some older declaration formats are: not XML, so no XML check. */
export function writeRecords(path: string, size: number): void {
  const block = Buffer.from(
    randomBytes(3 * MIB)
      .toString('base64')
      .slice(0, 4 * MIB),
  );
  writeRepeated(path, block, size);
}

/** A DmfA XML declaration of the wanted size: many workers in one employer declaration. */
export function writeXml(path: string, size: number): void {
  const date = todayInBrussels();
  const whole = sampleDmfaXml({ quarter: '20263', date, workers: 1 });
  const open = whole.indexOf('<NaturalPerson>');
  const close = whole.lastIndexOf('</NaturalPerson>') + '</NaturalPerson>\n'.length;
  const head = Buffer.from(whole.slice(0, open));
  const person = Buffer.from(whole.slice(open, close));
  const tail = Buffer.from(whole.slice(close));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head);
    const people = Buffer.concat(
      Array.from({ length: Math.floor((4 * MIB) / person.length) }, () => person),
    );
    let written = head.length;
    while (written + people.length + tail.length <= size) written += writeSync(fd, people);
    while (written + person.length + tail.length <= size) written += writeSync(fd, person);
    writeSync(fd, tail);
  } finally {
    closeSync(fd);
  }
}
