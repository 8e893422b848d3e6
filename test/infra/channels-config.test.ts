import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lazy } from 'aws-cdk-lib';
import {
  channelEntryProblems,
  MAX_SENDS_LIMIT,
  type ChannelEntry,
} from '../../functions/config/channels';
import {
  channelIdPart,
  ContextConfigError,
  parseConfig,
  SINGLE_CHANNEL_KEYS,
  type ChannelContext,
  type ParseConfigOptions,
} from '../../infra/config';
import {
  environmentProblems,
  estimatedEnvironmentBytes,
  estimatedLength,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
} from '../../infra/environment';

// The `channels` context (and `channelsFile`): every entry checked at synth, every problem on
// a line naming the channel and the field, and the single-channel keys kept apart.

const arn = (name: string): string =>
  `arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/${name}-AbC123`;
const PIN = 'ab'.repeat(32);
const PIN_NORMALISED = PIN.toUpperCase().match(/../g)?.join(':') ?? '';

const EAST = { name: 'east', sender: '123456', host: 'tp.example.be' };
const WEST = {
  name: 'west-2',
  sender: '654321',
  host: ' 192.0.2.10 ',
  protocol: 'sftp',
  maxSends: 3,
  signingSecretArn: arn('west-signing'),
  serverSecretArn: arn('west-server'),
  answerFingerprints: [PIN],
  answerCaSecretArn: arn('answer-ca'),
};

const EXPECTED: ChannelContext[] = [
  {
    name: 'east',
    sender: '123456',
    host: 'tp.example.be',
    port: 21,
    protocol: 'ftp',
    answerFingerprints: [],
    maxSends: 1,
  },
  {
    name: 'west-2',
    sender: '654321',
    host: '192.0.2.10',
    port: 8022,
    protocol: 'sftp',
    signingSecretArn: arn('west-signing'),
    serverSecretArn: arn('west-server'),
    answerFingerprints: [PIN_NORMALISED],
    answerCaSecretArn: arn('answer-ca'),
    maxSends: 3,
  },
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A folder holding `files` (name to content), removed after the file's tests. */
function folderWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'onss-transfer-channels-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

function parse(context: Record<string, unknown>, options?: ParseConfigOptions) {
  return parseConfig((key) => context[key], options);
}

/** The problems parseConfig reports, or [] when it accepts the context. */
function problemsOf(context: Record<string, unknown>, options?: ParseConfigOptions): string[] {
  try {
    parse(context, options);
    return [];
  } catch (error) {
    if (error instanceof ContextConfigError) return [...error.problems];
    throw error;
  }
}

describe('parseConfig: channels', () => {
  it('reads a list from cdk.json, with the default port, protocol and sends', () => {
    // Act
    const config = parse({ channels: [EAST, WEST], credentialMaxAgeDays: 180 });

    // Assess
    expect(config.channels).toEqual(EXPECTED);
    expect(config.credentialMaxAgeDays).toBe(180);
    // Each channel has its sender and host: no placeholder to warn about.
    expect(config.placeholders).toEqual([]);
  });

  it('reads the JSON text of -c channels=...', () => {
    expect(parse({ channels: JSON.stringify([EAST, WEST]) }).channels).toEqual(EXPECTED);
  });

  it('reads the list from channelsFile, relative to the folder given', () => {
    // Prepare
    const cwd = folderWith({ 'channels.json': JSON.stringify([EAST, WEST], null, 2) });

    // Act
    const config = parse({ channelsFile: 'channels.json' }, { cwd });

    // Assess
    expect(config.channels).toEqual(EXPECTED);
  });

  it('takes an explicit port and each protocol', () => {
    const channels = [
      { ...EAST, protocol: 'ftps' },
      { ...EAST, name: 'south', port: 2121 },
    ];
    expect(parse({ channels }).channels).toMatchObject([
      { protocol: 'ftps', port: 21 },
      { protocol: 'ftp', port: 2121 },
    ]);
  });

  it('keeps the single unnamed channel when neither key is given', () => {
    const config = parse({ sender: '123456', maxSends: '2' });
    expect(config).toMatchObject({ sender: '123456', maxSends: 2 });
    expect(config.channels).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'a name given twice',
      { channels: [EAST, { ...EAST, sender: '111111' }] },
      ['channels: channel "east": the name is given twice'],
    ],
    [
      'two names that give the same resource ids',
      {
        channels: [
          { ...EAST, name: 'a-1' },
          { ...EAST, name: 'a1' },
        ],
      },
      [
        'channels: channel "a1": gives the same resource ids (ChannelA1...) as channel "a-1": rename one',
      ],
    ],
    [
      'an upper-case name',
      { channels: [{ ...EAST, name: 'East' }] },
      [
        'channels: entry 1: name must be 1 to 32 lower-case letters, digits and dashes, a ' +
          'letter first, got "East"',
      ],
    ],
    [
      'no name',
      { channels: [EAST, { sender: '123456', host: 'h.example' }] },
      [
        'channels: entry 2: name must be 1 to 32 lower-case letters, digits and dashes, a ' +
          'letter first, got nothing',
      ],
    ],
    [
      'a five-digit sender',
      { channels: [{ ...EAST, sender: '12345' }] },
      ['channels: channel "east": sender must be six digits, got "12345"'],
    ],
    [
      'a sender given as a number',
      { channels: [{ ...EAST, sender: 123456 }] },
      ['channels: channel "east": sender must be six digits, got 123456'],
    ],
    [
      'a host with a space',
      { channels: [{ ...EAST, host: 'bad host' }] },
      ['channels: channel "east": host must be a host name or an IPv4 address, got "bad host"'],
    ],
    [
      'a port out of range',
      { channels: [{ ...EAST, port: 70000 }] },
      ['channels: channel "east": port must be a whole number from 1 to 65535, got 70000'],
    ],
    [
      'a port as text',
      { channels: [{ ...EAST, port: '21' }] },
      ['channels: channel "east": port must be a whole number from 1 to 65535, got "21"'],
    ],
    [
      'an unknown protocol',
      { channels: [{ ...EAST, protocol: 'http' }] },
      ['channels: channel "east": protocol must be one of ftp, ftps, sftp, got "http"'],
    ],
    [
      'no send at all',
      { channels: [{ ...EAST, maxSends: 0 }] },
      [
        `channels: channel "east": maxSends must be a whole number from 1 to ${MAX_SENDS_LIMIT}, got 0`,
      ],
    ],
    [
      'more sends than the limit',
      { channels: [{ ...EAST, maxSends: MAX_SENDS_LIMIT + 1 }] },
      [
        `channels: channel "east": maxSends must be a whole number from 1 to ${MAX_SENDS_LIMIT}, ` +
          `got ${MAX_SENDS_LIMIT + 1}`,
      ],
    ],
    [
      'a fractional maxSends',
      { channels: [{ ...EAST, maxSends: 1.5 }] },
      [
        `channels: channel "east": maxSends must be a whole number from 1 to ${MAX_SENDS_LIMIT}, got 1.5`,
      ],
    ],
    [
      'a secret name instead of an ARN',
      { channels: [{ ...EAST, serverSecretArn: 'onss/server' }] },
      [
        'channels: channel "east": serverSecretArn must be the complete ARN of a Secrets ' +
          'Manager secret, with its 6-character suffix, got "onss/server"',
      ],
    ],
    [
      'one secret for signing and server',
      { channels: [{ ...EAST, serverSecretArn: arn('x'), signingSecretArn: arn('x') }] },
      [
        'channels: channel "east": signingSecretArn and serverSecretArn must be two different secrets',
      ],
    ],
    [
      'two channels sharing a server secret',
      {
        channels: [
          { ...EAST, serverSecretArn: arn('shared') },
          { ...EAST, name: 'west', serverSecretArn: arn('shared') },
        ],
      },
      [
        'channels: channel "west": serverSecretArn is also the serverSecretArn of channel ' +
          '"east": two channels never share a server or signing secret',
      ],
    ],
    [
      "one channel's signing secret as another's server secret",
      {
        channels: [
          { ...EAST, signingSecretArn: arn('shared') },
          { ...EAST, name: 'west', serverSecretArn: arn('shared') },
        ],
      },
      [
        'channels: channel "west": serverSecretArn is also the signingSecretArn of channel ' +
          '"east": two channels never share a server or signing secret',
      ],
    ],
    [
      "another channel's signing secret as the answers' CA",
      {
        channels: [
          { ...EAST, signingSecretArn: arn('signing') },
          { ...EAST, name: 'west', answerCaSecretArn: arn('signing') },
        ],
      },
      [
        'channels: channel "west": answerCaSecretArn must be a secret of its own (a PEM CA ' +
          'bundle), not the signingSecretArn of channel "east"',
      ],
    ],
    [
      'a pin that is no fingerprint',
      { channels: [{ ...EAST, answerFingerprints: ['SHA256:abc'] }] },
      [
        'channels: channel "east": answerFingerprints: "SHA256:abc" is not a SHA-256 ' +
          'certificate fingerprint (64 hex digits, colons optional)',
      ],
    ],
    [
      'an unknown field',
      { channels: [{ ...EAST, user: 'ops' }] },
      [
        'channels: channel "east": unknown field "user" (a channel has name, sender, host, ' +
          'port, protocol, signingSecretArn, serverSecretArn, answerFingerprints, ' +
          'answerCaSecretArn, maxSends)',
      ],
    ],
    [
      'an entry that is no object',
      { channels: [EAST, 'west'] },
      ['channels: entry 2 must be an object (a channel), got "west"'],
    ],
    ['an empty list', { channels: [] }, ['channels: must be a non-empty list of channels, got []']],
    [
      'an object instead of a list',
      { channels: { east: EAST } },
      [
        'channels: must be a non-empty list of channels, got ' +
          '{"east":{"name":"east","sender":"123456","host":"tp.example.be"}}',
      ],
    ],
    [
      'both ways at once',
      { channels: [EAST], channelsFile: 'channels.json' },
      ['channels and channelsFile: give the channels one way, not both'],
    ],
    [
      'both modes mixed',
      { channels: [EAST], sender: '123456', host: 'tp.example.be', maxSends: 2 },
      [
        'sender, host, maxSends: single-channel keys cannot be given with channels or ' +
          'channelsFile: put them in the channel entries',
      ],
    ],
  ])('refuses %s, naming the channel and the field', (_, context, problems) => {
    expect(problemsOf(context)).toEqual(problems);
  });

  it('refuses -c channels text that is not JSON', () => {
    expect(problemsOf({ channels: '[{"name": "east",' })).toEqual([
      expect.stringMatching(
        /^channels: must be a JSON list of channels, but the text is not JSON \(.+\)$/,
      ),
    ]);
  });

  it('refuses a channelsFile that does not exist, naming it', () => {
    const cwd = folderWith({});
    expect(problemsOf({ channelsFile: 'ops/channels.json' }, { cwd })).toEqual([
      `channelsFile: cannot read "ops/channels.json" (${join(cwd, 'ops/channels.json')}): no such file`,
    ]);
  });

  it('refuses a channelsFile that is not JSON, naming it', () => {
    const cwd = folderWith({ 'channels.json': '[{"name": "east"' });
    expect(problemsOf({ channelsFile: 'channels.json' }, { cwd })).toEqual([
      expect.stringMatching(/^channelsFile: "channels\.json" is not JSON \(.+\)$/),
    ]);
  });

  it('refuses a channelsFile that is not a path', () => {
    expect(problemsOf({ channelsFile: 42 })).toEqual([
      'channelsFile: must be the path of a JSON file, got 42',
    ]);
  });

  it("names the file in its entries' problems", () => {
    const cwd = folderWith({ 'channels.json': JSON.stringify([{ ...EAST, sender: '1' }]) });
    expect(problemsOf({ channelsFile: 'channels.json' }, { cwd })).toEqual([
      'channelsFile (channels.json): channel "east": sender must be six digits, got "1"',
    ]);
  });

  it('refuses every single-channel key beside channels', () => {
    // Act
    const context: Record<string, unknown> = { channels: [EAST] };
    for (const key of SINGLE_CHANNEL_KEYS) context[key] = key === 'maxSends' ? 1 : 'x';
    const problems = problemsOf(context);

    // Assess: one line names them all (and the bad values of some are reported too)
    expect(problems).toContain(
      `${SINGLE_CHANNEL_KEYS.join(', ')}: single-channel keys cannot be given with channels ` +
        'or channelsFile: put them in the channel entries',
    );
  });

  it('lists every problem of every channel at once', () => {
    // Act
    const act = () =>
      parse({
        channels: [
          { ...EAST, sender: '1', maxSends: 20 },
          { ...EAST, host: '' },
        ],
      });

    // Assess
    expect(act).toThrow(ContextConfigError);
    expect(act).toThrow(
      /\n {2}- channels: channel "east": sender .*\n {2}- channels: channel "east": maxSends .*\n {2}- channels: channel "east": the name is given twice\n {2}- channels: channel "east": host /,
    );
  });

  it('accepts only lists whose entries the functions accept too', () => {
    // Prepare: what the stack writes, a created secret's ARN standing in for its token
    const channels = parse({ channels: [EAST, WEST] }).channels ?? [];
    const entries = channels.map((channel): ChannelEntry => ({
      name: channel.name,
      sender: channel.sender,
      host: channel.host,
      port: channel.port,
      protocol: channel.protocol,
      serverSecretId: channel.serverSecretArn ?? arn(`${channel.name}-server`),
      signingSecretId: channel.signingSecretArn ?? arn(`${channel.name}-signing`),
      answerFingerprints: [...channel.answerFingerprints],
      ...(channel.answerCaSecretArn === undefined
        ? {}
        : { answerCaSecretId: channel.answerCaSecretArn }),
      maxSends: channel.maxSends,
    }));

    // Act / Assess
    expect(channelEntryProblems(entries, 'ONSS_CHANNELS')).toEqual([]);
  });
});

describe('channelIdPart', () => {
  it.each([
    ['east', 'East'],
    ['west-2', 'West2'],
    ['a-b-c', 'ABC'],
    ['payroll-be-01', 'PayrollBe01'],
  ])('turns %s into %s', (name, part) => {
    expect(channelIdPart(name)).toBe(part);
  });
});

describe('environment size', () => {
  const token = Lazy.string({ produce: () => 'resolved later' });

  it('counts each token as an ARN of 100 characters', () => {
    expect(estimatedLength('abc')).toBe(3);
    expect(estimatedLength(`a${token}b`)).toBe(102);
    expect(estimatedLength(`${token}${token}`)).toBe(200);
    expect(estimatedLength('')).toBe(0);
  });

  it('measures the variables as JSON, tokens included', () => {
    expect(estimatedEnvironmentBytes({ A: 'b' })).toBe('{"A":"b"}'.length);
    expect(estimatedEnvironmentBytes({ A: token })).toBe('{"A":""}'.length + 100);
  });

  it('accepts variables up to 4 KB and names the key to change beyond', () => {
    // Prepare: `{"A":"..."}` is 8 characters around the value
    const fits = { A: 'x'.repeat(LAMBDA_ENVIRONMENT_LIMIT_BYTES - 8) };
    const over = { A: `${'x'.repeat(LAMBDA_ENVIRONMENT_LIMIT_BYTES - 107)}${token}` };

    // Act / Assess
    expect(environmentProblems('channels', 'send', fits)).toEqual([]);
    expect(environmentProblems('channels', 'send', over)).toEqual([
      "channels: the send function's environment variables would take about 4097 bytes, " +
        "over Lambda's 4096 (each ARN the stack creates counted as 100 characters): split the " +
        'channels over two deployments, or give fewer answer fingerprints',
    ]);
  });
});
