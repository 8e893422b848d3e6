import { EVENT_TYPES, serverIdentityChangedEvent } from '../../shared/notify';
import {
  serverIdentityChange,
  TransportHostKeyError,
  TransportServerCertificateError,
} from '../../shared/transport';

const AT = new Date('2026-11-25T10:00:00.000Z');
const PINNED = `${'AB:'.repeat(31)}AB`;
const PRESENTED = `${'CD:'.repeat(31)}CD`;

describe('serverIdentityChangedEvent', () => {
  it('is in EVENT_TYPES as server.identity-changed', () => {
    expect(EVENT_TYPES.serverIdentityChanged).toBe('server.identity-changed');
  });

  it('raises a changed FTPS certificate read from the refusal: old and new, nothing sent, what to do', () => {
    const refusal = new TransportServerCertificateError('refused', {
      actual: PRESENTED,
      expected: PINNED,
    });
    const change = serverIdentityChange(refusal);
    if (change === undefined) throw new Error('expected a change');
    const event = serverIdentityChangedEvent(change, {
      at: AT,
      channel: 'payroll-a',
      where: 'ftps://T1@ftp.socialsecurity.be:21',
    });
    expect(event).toEqual({
      type: 'server.identity-changed',
      at: '2026-11-25T10:00:00.000Z',
      channel: 'payroll-a',
      server: 'ftps://T1@ftp.socialsecurity.be:21',
      serverIdentity: { kind: 'tls-certificate', pinned: PINNED, presented: PRESENTED },
      message: expect.any(String),
    });
    expect(event.message).toContain(
      `The FTPS server ftps://T1@ftp.socialsecurity.be:21 (channel payroll-a) presented the certificate ${PRESENTED}, not the pinned ${PINNED}`,
    );
    expect(event.message).toContain('nothing was sent');
    expect(event.message).toContain('Check the new fingerprint with the transfer point');
    expect(event.message).toContain('serverCertSha256 in the server secret');
  });

  it('raises a changed SFTP host key, without a channel', () => {
    const refusal = new TransportHostKeyError('refused', {
      actual: 'SHA256:new',
      expected: 'SHA256:old',
    });
    const change = serverIdentityChange(refusal);
    if (change === undefined) throw new Error('expected a change');
    const event = serverIdentityChangedEvent(change, { at: AT, where: 'sftp://T1@host:8022' });
    expect(event).not.toHaveProperty('channel');
    expect(event.serverIdentity).toEqual({
      kind: 'host-key',
      pinned: 'SHA256:old',
      presented: 'SHA256:new',
    });
    expect(event.message).toMatch(
      /^The SFTP server sftp:\/\/T1@host:8022 presented the host key SHA256:new, not the pinned SHA256:old: .*nothing was sent\..*hostKeySha256 in the server secret/,
    );
  });
});
