import {
  ChannelConfigError,
  ChannelNotFoundError,
  findChannel,
  parseChannels,
} from '../../shared/channels';

const file = (channels: unknown[]) => JSON.stringify({ channels });
const east = { name: 'east', sender: '123456', host: 'ftp.example', port: 21, user: 'U1' };

describe('parseChannels', () => {
  it('reads every setting of a channel', () => {
    // Prepare
    const full = {
      ...east,
      protocol: 'sftp',
      passwordEnv: 'EAST_PW',
      sshKey: '/keys/east',
      sshKeyPasswordEnv: 'EAST_KEY_PW',
      hostKeySha256: 'SHA256:abc',
      p12: '/keys/east.p12',
      keyPasswordEnv: 'EAST_P12_PW',
      answerFingerprints: ['AB:CD'],
      signTest: true,
    };

    // Act
    const [channel] = parseChannels(file([full]), 'channels.json');

    // Assess
    expect(channel).toEqual(full);
  });

  it('reads the FTPS trust settings: a CA file and a pinned server certificate', () => {
    const ftps = {
      ...east,
      protocol: 'ftps',
      caFile: '/trust/ca.pem',
      serverCertSha256: `${'AB:'.repeat(31)}AB`,
    };
    expect(parseChannels(file([ftps]), 'channels.json')).toEqual([ftps]);
  });

  it.each([
    ['not JSON', '{', 'channels.json: is not JSON'],
    ['no list', '{"channel": []}', 'must be an object with a "channels" list'],
    ['a bad name', file([{ ...east, name: 'East' }]), 'channels[0].name: must be 1 to 32'],
    ['a bad sender', file([{ ...east, sender: '12345' }]), 'channel east.sender: must be the six'],
    ['an unknown setting', file([{ ...east, hots: 'x' }]), 'channel east.hots: is not a channel'],
    ['a bad port', file([{ ...east, port: 70000 }]), 'channel east.port: must be a port'],
    ['a bad protocol', file([{ ...east, protocol: 'ssh' }]), 'must be ftp, ftps, sftp'],
    ['a variable name that is not one', file([{ ...east, passwordEnv: 'A B' }]), 'environment'],
    ['a password', file([{ ...east, password: 's3cret' }]), 'a secret never goes in'],
    ['a passphrase', file([{ ...east, sshKeyPassphrase: 's3cret' }]), 'a secret never goes in'],
    ['a name twice', file([east, east]), 'channel east: is defined twice'],
  ])('refuses %s, naming where', (_title, text, message) => {
    // Act
    const act = () => parseChannels(text, 'channels.json');

    // Assess
    expect(act).toThrow(ChannelConfigError);
    expect(act).toThrow(message);
    expect(act).not.toThrow('s3cret');
  });
});

describe('findChannel', () => {
  it('finds a channel by name, or names those there are', () => {
    const channels = parseChannels(file([east, { ...east, name: 'west' }]), 'c.json');
    expect(findChannel(channels, 'west', 'c.json').name).toBe('west');
    expect(() => findChannel(channels, 'north', 'c.json')).toThrow(ChannelNotFoundError);
    expect(() => findChannel(channels, 'north', 'c.json')).toThrow('(it holds east, west)');
  });
});
