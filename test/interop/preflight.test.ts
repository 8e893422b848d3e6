import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { decide, INSTALL_COMMAND, inspectMachine, type Machine } from './preflight';

const ready: Machine = { missing: [], openssl: true, root: true, debian: true };

describe("npm test's preflight: installs the interop servers when it can, else one line", () => {
  it('runs when everything is there', () => {
    expect(decide(ready)).toEqual({ action: 'run' });
  });

  it('installs what is missing as root on Debian', () => {
    expect(decide({ ...ready, missing: ['pure-ftpd', 'pure-pw'] })).toEqual({ action: 'install' });
  });

  it.each([
    ['not root', { root: false, debian: true }],
    ['not Debian', { root: true, debian: false }],
  ])('stops with one line naming what is missing and the command, %s', (_, machine) => {
    const decision = decide({ ...ready, ...machine, missing: ['vsftpd', 'pure-ftpd'] });
    expect(decision).toEqual({ action: 'stop', line: expect.stringContaining(INSTALL_COMMAND) });
    const line = decision.action === 'stop' ? decision.line : '';
    expect(line).toContain('vsftpd, pure-ftpd');
    expect(line).not.toContain('\n');
  });

  it('stops when the servers are there but the run is not root (the tests create a user)', () => {
    expect(decide({ ...ready, root: false })).toEqual({
      action: 'stop',
      line: expect.stringContaining('sudo npm test'),
    });
  });

  it('stops when OpenSSL is missing, whatever else', () => {
    expect(decide({ ...ready, openssl: false, missing: ['vsftpd'] })).toEqual({
      action: 'stop',
      line: expect.stringContaining('OpenSSL'),
    });
  });

  it('passes on this machine, which runs the interop tests', () => {
    expect(decide(inspectMachine())).toEqual({ action: 'run' });
    const root = join(__dirname, '..', '..');
    const run = () =>
      execFileSync(
        process.execPath,
        ['-r', './test/helpers/swc-register.js', 'test/interop/preflight.ts'],
        { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    expect(run()).toBe('');
  });
});
