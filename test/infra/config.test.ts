import {
  CONTEXT_DEFAULTS,
  CONTEXT_KEYS,
  ContextConfigError,
  parseConfig,
} from '../../infra/config';
import type { ContextKey } from '../../infra/config';
import { pullSilenceWindow } from '../../infra/monitoring';

const SIGNING_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/signing-AbCdEf';
const SERVER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/server-XyZ123';

/** parseConfig over a plain object of context values. */
function parse(context: Partial<Record<ContextKey, unknown>>) {
  return parseConfig((key) => context[key]);
}

/** The problems parseConfig reports for `context`, or [] when it accepts it. */
function problemsOf(context: Partial<Record<ContextKey, unknown>>): readonly string[] {
  try {
    parse(context);
    return [];
  } catch (error) {
    if (error instanceof ContextConfigError) return error.problems;
    throw error;
  }
}

describe('parseConfig', () => {
  it('falls back to the documented defaults and flags the placeholders', () => {
    // Act
    const config = parse({});

    // Assess
    expect(config).toEqual({
      sender: CONTEXT_DEFAULTS.sender,
      host: CONTEXT_DEFAULTS.host,
      port: 21,
      protocol: 'ftp',
      environments: ['R', 'T'],
      pullRateMinutes: 15,
      eipAllocationId: undefined,
      signingSecretArn: undefined,
      serverSecretArn: undefined,
      outboxPrefix: 'outbox/',
      responsesPrefix: 'responses/',
      responseRetentionDays: 1830,
      alarmEmail: undefined,
      signTest: false,
      answerFingerprints: [],
      answerCaSecretArn: undefined,
      overdue: {
        acknowledgementMinutes: 60,
        notificationHours: 24,
        notifyingApplications: ['DMFA'],
      },
      maxSends: 1,
      credentialMaxAgeDays: 365,
      placeholders: [CONTEXT_KEYS.sender, CONTEXT_KEYS.host],
    });
    expect(config.channels).toBeUndefined();
  });

  it('reads strings from -c and numbers from cdk.json alike', () => {
    // Act
    const config = parse({
      sender: '123456',
      host: 'transfer.example.be',
      port: 2121,
      protocol: 'ftp',
      environments: 'T, S',
      pullRateMinutes: '5',
      eipAllocationId: 'eipalloc-0123456789abcdef0',
      signingSecretArn: SIGNING_ARN,
      serverSecretArn: SERVER_ARN,
      outboxPrefix: 'in/outbox/',
      responsesPrefix: 'answers/',
      responseRetentionDays: '90',
      alarmEmail: 'ops@example.be',
      signTest: 'true',
      maxSends: 4,
      credentialMaxAgeDays: '90',
    });

    // Assess
    expect(config).toMatchObject({
      sender: '123456',
      host: 'transfer.example.be',
      port: 2121,
      protocol: 'ftp',
      environments: ['T', 'S'],
      pullRateMinutes: 5,
      eipAllocationId: 'eipalloc-0123456789abcdef0',
      signingSecretArn: SIGNING_ARN,
      serverSecretArn: SERVER_ARN,
      outboxPrefix: 'in/outbox/',
      responsesPrefix: 'answers/',
      responseRetentionDays: 90,
      alarmEmail: 'ops@example.be',
      signTest: true,
      maxSends: 4,
      credentialMaxAgeDays: 90,
      placeholders: [],
    });
  });

  it("reads the watchdog's waits and notifying applications", () => {
    expect(
      parse({
        overdueAckMinutes: '30',
        overdueNotificationHours: 72,
        overdueNotifyingApps: ' DMFA , DRS1 ',
      }).overdue,
    ).toEqual({
      acknowledgementMinutes: 30,
      notificationHours: 72,
      notifyingApplications: ['DMFA', 'DRS1'],
    });
  });

  it.each([
    { protocol: 'ftps', port: 21 },
    { protocol: 'sftp', port: 8022 },
  ])('takes $protocol with its default port $port', ({ protocol, port }) => {
    expect(parse({ protocol })).toMatchObject({ protocol, port });
  });

  it('treats an empty value as absent', () => {
    // Act
    const config = parse({ eipAllocationId: '', signingSecretArn: '  ', port: '' });

    // Assess
    expect(config.eipAllocationId).toBeUndefined();
    expect(config.signingSecretArn).toBeUndefined();
    expect(config.port).toBe(21);
  });

  it.each<{ title: string; context: Partial<Record<ContextKey, unknown>>; key: string }>([
    { title: 'a five-digit sender', context: { sender: '12345' }, key: 'sender' },
    { title: 'a sender with letters', context: { sender: '12345A' }, key: 'sender' },
    { title: 'a host with a space', context: { host: 'bad host' }, key: 'host' },
    { title: 'a host label starting with -', context: { host: '-a.example' }, key: 'host' },
    { title: 'port 0', context: { port: '0' }, key: 'port' },
    { title: 'port 70000', context: { port: 70000 }, key: 'port' },
    { title: 'a non-numeric port', context: { port: '21a' }, key: 'port' },
    { title: 'an unknown protocol', context: { protocol: 'http' }, key: 'protocol' },

    { title: 'a signTest that is not a boolean', context: { signTest: 'yes' }, key: 'signTest' },
    { title: 'an unknown environment', context: { environments: 'R,X' }, key: 'environments' },
    { title: 'a duplicated environment', context: { environments: 'T,T' }, key: 'environments' },
    { title: 'no environment', context: { environments: ',' }, key: 'environments' },
    { title: 'a zero pull rate', context: { pullRateMinutes: '0' }, key: 'pullRateMinutes' },
    { title: 'a fractional pull rate', context: { pullRateMinutes: 1.5 }, key: 'pullRateMinutes' },
    { title: 'a bad allocation id', context: { eipAllocationId: 'eip-1' }, key: 'eipAllocationId' },
    {
      title: 'a secret name instead of an ARN',
      context: { signingSecretArn: 'onss/signing' },
      key: 'signingSecretArn',
    },
    {
      title: 'a partial secret ARN (no suffix)',
      context: { serverSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' },
      key: 'serverSecretArn',
    },
    {
      title: 'one secret for both',
      context: { signingSecretArn: SIGNING_ARN, serverSecretArn: SIGNING_ARN },
      key: 'signingSecretArn and serverSecretArn',
    },
    {
      title: 'a prefix without its slash',
      context: { outboxPrefix: 'outbox' },
      key: 'outboxPrefix',
    },
    {
      title: 'a prefix with a leading slash',
      context: { responsesPrefix: '/responses/' },
      key: 'responsesPrefix',
    },
    {
      title: 'responses under the outbox',
      context: { outboxPrefix: 'data/', responsesPrefix: 'data/responses/' },
      key: 'outboxPrefix and responsesPrefix',
    },
    {
      title: 'a zero retention',
      context: { responseRetentionDays: '0' },
      key: 'responseRetentionDays',
    },
    { title: 'a bad e-mail', context: { alarmEmail: 'ops' }, key: 'alarmEmail' },
    { title: 'a zero ACRF wait', context: { overdueAckMinutes: '0' }, key: 'overdueAckMinutes' },
    {
      title: 'an ACRF wait over a week',
      context: { overdueAckMinutes: 10_081 },
      key: 'overdueAckMinutes',
    },
    {
      title: 'a fractional notification wait',
      context: { overdueNotificationHours: '1.5' },
      key: 'overdueNotificationHours',
    },
    {
      title: 'a notification wait over 90 days',
      context: { overdueNotificationHours: '2161' },
      key: 'overdueNotificationHours',
    },
    {
      title: 'a notifying application that is no code',
      context: { overdueNotifyingApps: 'DMFA,dimona' },
      key: 'overdueNotifyingApps',
    },
    {
      title: 'a notifying application twice',
      context: { overdueNotifyingApps: 'DMFA,DMFA' },
      key: 'overdueNotifyingApps',
    },
    { title: 'an object value', context: { host: { name: 'x' } }, key: 'host' },
    { title: 'no send at all', context: { maxSends: '0' }, key: 'maxSends' },
    { title: 'more sends than the limit', context: { maxSends: 11 }, key: 'maxSends' },
    {
      title: 'a zero credential age',
      context: { credentialMaxAgeDays: 0 },
      key: 'credentialMaxAgeDays',
    },
    {
      title: 'a credential age over ten years',
      context: { credentialMaxAgeDays: '3651' },
      key: 'credentialMaxAgeDays',
    },
    {
      title: 'a fractional credential age',
      context: { credentialMaxAgeDays: 30.5 },
      key: 'credentialMaxAgeDays',
    },
  ])('rejects $title, naming the key', ({ context, key }) => {
    // Act
    const problems = problemsOf(context);

    // Assess
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^${key}: `));
  });

  it('lists every problem at once, in one readable message', () => {
    // Act
    const act = () => parse({ sender: 'x', port: 'y', environments: 'Q' });

    // Assess
    expect(act).toThrow(ContextConfigError);
    expect(act).toThrow(
      /Invalid CDK context.*\n {2}- sender: .*\n {2}- port: .*\n {2}- environments: /,
    );
  });
});

describe('pullSilenceWindow', () => {
  it.each([
    { rate: 1, minutes: 60 },
    { rate: 15, minutes: 60 },
    { rate: 30, minutes: 60 },
    { rate: 45, minutes: 90 },
    { rate: 720, minutes: 1440 },
  ])('is $minutes minutes for a pull every $rate minutes', ({ rate, minutes }) => {
    expect(pullSilenceWindow(rate).toMinutes()).toBe(minutes);
  });
});
