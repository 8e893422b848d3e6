import { demoOptionsFrom, runDemo } from '../../cli/demo';
import { captureIo } from '../helpers/cli';

describe('npm start (the demo)', () => {
  it('shows two channels, an overdue-then-answered declaration, a cancel and a resend', async () => {
    const { io, stdout, stderr } = captureIo();
    const outcome = await runDemo(io);
    expect(outcome).toMatchObject({
      accepted: true,
      rejectedWith: ['ACRF-108'],
      overdueThenAnswered: true,
      cancelled: true,
      resend: { state: 'acknowledged' },
    });
    expect(stdout()).toContain('--channel east');
    expect(stdout()).toContain('--channel west');
    expect(stdout()).toMatch(/declaration\.overdue: DMFA\.654321\.\d{8}\.00002\.T has no ACRF/);
    expect(stdout()).toMatch(/cancelled DMFA\.123456\.\d{8}\.00002\.T: TD\./);
    expect(stdout()).toMatch(/resend of DMFA\.654321\.\d{8}\.00001\.T/);
    expect(stdout()).toContain(`accepted, ticket ${outcome.ticket}`);
    expect(stdout()).toMatch(/launched GO\.DMFA\.123456\.\d{8}\.00001\.T\.1/);
    expect(stdout()).toMatch(/ACRF-108 \w+/); // the reason, in words, from status
    expect(stderr()).toBe('');
  });

  it('runs the same loop over explicit FTPS (npm start -- --protocol ftps)', async () => {
    const { io, stdout, stderr } = captureIo();
    const outcome = await runDemo(io, demoOptionsFrom(['--protocol', 'ftps']));
    expect(outcome).toMatchObject({ accepted: true, rejectedWith: ['ACRF-108'], cancelled: true });
    expect(stdout()).toMatch(/east \(sender 123456\) on ftps:\/\//);
    expect(stdout()).toContain('--protocol ftps --ca-file');
    expect(stderr()).toBe('');
  });

  it('runs the same loop over SFTP with a pinned host key (npm start -- --protocol sftp)', async () => {
    const { io, stdout, stderr } = captureIo();
    const outcome = await runDemo(io, demoOptionsFrom(['--protocol', 'sftp']));
    expect(outcome).toMatchObject({ accepted: true, rejectedWith: ['ACRF-108'], cancelled: true });
    expect(stdout()).toMatch(/east \(sender 123456\) on sftp:\/\//);
    expect(stdout()).toMatch(/--protocol sftp --ssh-key \S+ --host-key-sha256 SHA256:/);
    expect(stderr()).toBe('');
  });

  it('reads its options: none, --protocol ftp|ftps|sftp, --protocol=ftps; refuses others', () => {
    expect(demoOptionsFrom([])).toEqual({});
    expect(demoOptionsFrom(['--protocol', 'ftp'])).toEqual({ protocol: 'ftp' });
    expect(demoOptionsFrom(['--protocol=ftps'])).toEqual({ protocol: 'ftps' });
    expect(demoOptionsFrom(['--protocol', 'sftp'])).toEqual({ protocol: 'sftp' });
    expect(() => demoOptionsFrom(['--protocol', 'scp'])).toThrow(/usage: npm start/);
    expect(() => demoOptionsFrom(['--verbose'])).toThrow(/usage: npm start/);
  });
});
