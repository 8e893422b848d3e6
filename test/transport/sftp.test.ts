import {
  createPrivateKey,
  generateKeyPairSync,
  randomBytes,
  type KeyExportOptions,
} from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { utils } from 'ssh2';
import {
  listenSftp,
  type SftpServerHandle,
  type SftpUploadHooks,
} from '../../transfer-point/sftp-server';
import type { UploadSink } from '../../transfer-point/upload-sink';
import {
  authorizedKeyLine,
  classifySshError,
  loadPrivateKey,
  normalizeSshFingerprint,
  sftpConnector,
  sshFingerprint,
  TransportAuthError,
  TransportClosedError,
  TransportConfigError,
  TransportConnectError,
  TransportError,
  TransportHostKeyError,
  TransportNotFoundError,
  TransportTimeoutError,
  type HostKeyEvent,
  type SftpConnectorOptions,
  type Transport,
} from '../../shared/transport';
import { collector, rejection } from '../helpers/streams';
import { startFaultProxy } from '../faults/fault-proxy';
import { startTcpProxy } from '../helpers/tcp-proxy';

// The SFTP adapter against the local SFTP server (ssh2's Server, in-process): fast, and
// scriptable (cuts, stalls). test/interop/sftp-openssh.test.ts runs it against OpenSSH.

const USER = 'onss-test';
const PASSWORD = 'Pa55-word-never-shown';
const PASSPHRASE = 'pass-phrase-never-shown';
const FOLDERS = ['IN', 'INTEST', 'INTEST-S', 'OUT', 'OUTTEST', 'OUTTEST-S'];
const MIB = 1024 * 1024;
const FAST_RETRY = { attempts: 3, baseDelayMs: 2, maxDelayMs: 10 };

const clientKey = utils.generateKeyPairSync('rsa', { bits: 2048 });
const hostKey = utils.generateKeyPairSync('rsa', { bits: 2048 });
const otherHostKey = utils.generateKeyPairSync('ed25519');

let scratch: string;
let root: string;
let server: SftpServerHandle;
/** What the next uploads obey; reset before each test. */
let script: { dropAfter?: number; throttle?: number };
const sinks = new Set<UploadSink>();
const uploaded: string[] = [];

const hooks: SftpUploadHooks = {
  takeDropAfter: () => {
    const bytes = script.dropAfter;
    delete script.dropAfter;
    return bytes;
  },
  throttle: () => script.throttle,
  track: (sink) => sinks.add(sink),
  untrack: (sink) => sinks.delete(sink),
  uploaded: (path) => uploaded.push(path),
  interrupted: () => undefined,
  renamed: () => undefined,
};

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'onss-sftp-test-'));
  root = join(scratch, 'home');
  for (const folder of FOLDERS) mkdirSync(join(root, folder), { recursive: true });
  server = await listenSftp({
    host: '127.0.0.1',
    port: 0,
    root,
    hostKeys: [hostKey.private],
    hostKeyAlgorithms: ['ssh-rsa'],
    user: USER,
    authorizedKeys: [clientKey.public],
    password: PASSWORD,
    hooks,
  });
});

afterAll(async () => {
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  script = {};
  uploaded.length = 0;
});

function options(overrides: Partial<SftpConnectorOptions> = {}): SftpConnectorOptions {
  return {
    host: '127.0.0.1',
    port: server.port,
    user: USER,
    privateKey: clientKey.private,
    hostKeySha256: server.hostKeySha256,
    timeoutMs: 5000,
    connectRetry: FAST_RETRY,
    operationRetry: FAST_RETRY,
    ...overrides,
  };
}

/** Runs `body` on a fresh session and always closes it. */
async function withTransport<T>(
  body: (transport: Transport) => Promise<T>,
  overrides: Partial<SftpConnectorOptions> = {},
): Promise<T> {
  const transport = await sftpConnector(options(overrides)).connect();
  try {
    return await body(transport);
  } finally {
    await transport.close();
  }
}

/** A local file of random bytes, read back in 1 MiB chunks as the sender does. */
function sourceFile(name: string, bytes: number): { data: Buffer; stream: () => Readable } {
  const data = randomBytes(bytes);
  const path = join(scratch, name);
  writeFileSync(path, data);
  return { data, stream: () => createReadStream(path, { highWaterMark: MIB }) };
}

const onServer = (path: string): string => join(root, path);

describe('sftpConnector options', () => {
  it('names the server without secrets', () => {
    const connector = sftpConnector(options({ password: PASSWORD }));
    expect(connector.describe()).toBe(`sftp://${USER}@127.0.0.1:${server.port}`);
    expect(sftpConnector(options({ host: '::1', port: undefined })).describe()).toBe(
      `sftp://${USER}@[::1]:8022`,
    );
  });

  it.each([
    ['no key and no password', { privateKey: undefined }, /needs a privateKey/],
    ['a URL as host', { host: 'sftp://sftp.socialsecurity.be' }, /is a URL/],
    ['a port in the host', { host: 'sftp.socialsecurity.be:8022' }, /holds a port/],
    ['port 0', { port: 0 }, /port must be a whole number/],
    ['a hex pin', { hostKeySha256: 'ab'.repeat(32) }, /hostKeySha256 must be an OpenSSH/],
    ['a pin without its prefix', { hostKeySha256: 'A'.repeat(43) }, /hostKeySha256/],
    ['timeout 0', { timeoutMs: 0 }, /timeoutMs/],
    [
      'a passphrase without a key',
      { privateKey: undefined, password: 'x', passphrase: 'y' },
      /without a privateKey/,
    ],
    ['a public key', { privateKey: clientKey.public }, /public key/],
    ['garbage', { privateKey: 'not a key' }, /cannot be read/],
    ['attempts 0', { connectRetry: { attempts: 0 } }, /connectRetry/],
  ])('refuses %s with a message that says what to fix', (_title, overrides, message) => {
    const attempt = (): unknown =>
      sftpConnector(options(overrides as Partial<SftpConnectorOptions>));
    expect(attempt).toThrow(TransportConfigError);
    expect(attempt).toThrow(message);
  });

  it('names an encrypted PKCS#8 key given without its passphrase for what it is', () => {
    const { privateKey } = generateKeyPairSync('ed25519', {
      privateKeyEncoding: {
        type: 'pkcs8',
        format: 'pem',
        cipher: 'aes-256-cbc',
        passphrase: PASSPHRASE,
      },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(() => sftpConnector(options({ privateKey }))).toThrow(/encrypted: give its passphrase/);
  });

  it('refuses an encrypted key without its passphrase, or with a wrong one, never quoting either', () => {
    const encrypted = utils.generateKeyPairSync('ed25519', {
      passphrase: PASSPHRASE,
      cipher: 'aes256-ctr',
      rounds: 4,
    });
    expect(() => sftpConnector(options({ privateKey: encrypted.private }))).toThrow(
      /encrypted: give its passphrase/,
    );
    let message = '';
    try {
      sftpConnector(options({ privateKey: encrypted.private, passphrase: `${PASSPHRASE}-wrong` }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/could not be decrypted/);
    expect(message).not.toContain(PASSPHRASE);
  });

  it('writes fingerprints as OpenSSH does and accepts a padded pin', () => {
    const blob = loadPrivateKey(hostKey.private).publicBlob;
    const fingerprint = sshFingerprint(blob);
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint).toBe(server.hostKeySha256);
    expect(normalizeSshFingerprint(`${fingerprint}=`)).toBe(fingerprint);
    expect(normalizeSshFingerprint(` ${fingerprint}\n`)).toBe(fingerprint);
    expect(normalizeSshFingerprint(fingerprint.replace('SHA256', 'sha256'))).toBe(fingerprint);
    expect(normalizeSshFingerprint(fingerprint.replace(/:./, ':!'))).toBeUndefined();
    expect(normalizeSshFingerprint('MD5:00:11')).toBeUndefined();
  });
});

/** An Error with the extra fields ssh2 sets (`level`, `code`). */
function sshError(message: string, fields: { level?: string; code?: string | number }): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifySshError', () => {
  it.each([
    {
      title: 'every login method refused',
      error: sshError('All configured authentication methods failed', {
        level: 'client-authentication',
      }),
      code: 'TRANSPORT_AUTH',
      transient: false,
    },
    {
      title: 'a handshake that takes too long',
      error: sshError('Timed out while waiting for handshake', { level: 'client-timeout' }),
      code: 'TRANSPORT_TIMEOUT',
      transient: true,
    },
    {
      title: 'unanswered keepalives',
      error: sshError('Keepalive timeout', { level: 'client-timeout' }),
      code: 'TRANSPORT_TIMEOUT',
      transient: true,
    },
    {
      title: 'a refused connection',
      error: sshError('connect ECONNREFUSED 127.0.0.1:8022', {
        level: 'client-socket',
        code: 'ECONNREFUSED',
      }),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'a reset',
      error: sshError('read ECONNRESET', { level: 'client-socket', code: 'ECONNRESET' }),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'an unknown host',
      error: sshError('getaddrinfo ENOTFOUND x', { level: 'client-dns', code: 'ENOTFOUND' }),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'no common algorithm',
      error: sshError('Handshake failed: no matching host key format', { level: 'handshake' }),
      code: 'TRANSPORT_FAILED',
      transient: false,
    },
    {
      title: "the server's DISCONNECT after too many login failures",
      error: sshError('Too many authentication failures', { code: 2 }),
      code: 'TRANSPORT_AUTH',
      transient: false,
    },
    {
      title: "the server's DISCONNECT for another reason",
      error: sshError('Connection lost', { code: 7 }),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'a connection gone before the handshake',
      error: sshError('Connection lost before handshake', { level: 'protocol' }),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'requests left without an answer by a closed channel',
      error: sshError('No response from server', {}),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'anything else',
      error: new TypeError('x is not a function'),
      code: 'TRANSPORT_FAILED',
      transient: false,
    },
  ])('$title -> $code', ({ error, code, transient }) => {
    const classified = classifySshError(error, 'connect sftp://u@h:8022');
    expect(classified).toMatchObject({ code, transient, cause: error });
    expect(classified.message).toMatch(/^connect sftp:\/\/u@h:8022: /);
  });

  it('passes a TransportError through unchanged', () => {
    const error = new TransportConnectError('already classified');
    expect(classifySshError(error, 'x')).toBe(error);
  });
});

describe('sftpConnector login', () => {
  /** Key formats a user may hold, each authorized on a server of its own. */
  const formats: [string, () => { privateKey: string; passphrase?: string; publicBlob: Buffer }][] =
    [
      ['OpenSSH RSA, encrypted', () => openSsh('rsa', PASSPHRASE)],
      ['OpenSSH ed25519, encrypted', () => openSsh('ed25519', PASSPHRASE)],
      ['OpenSSH ed25519', () => openSsh('ed25519')],
      ['PKCS#1 RSA PEM', () => nodeKey('rsa', 'pkcs1')],
      ['PKCS#8 RSA PEM', () => nodeKey('rsa', 'pkcs8')],
      ['PKCS#8 RSA PEM, encrypted', () => nodeKey('rsa', 'pkcs8', PASSPHRASE)],
      ['PKCS#8 ed25519 PEM', () => nodeKey('ed25519', 'pkcs8')],
      ['PKCS#8 ed25519 PEM, encrypted', () => nodeKey('ed25519', 'pkcs8', PASSPHRASE)],
      ['SEC1 ECDSA P-256 PEM', () => nodeKey('ec', 'sec1')],
    ];

  function openSsh(type: 'rsa' | 'ed25519', passphrase?: string) {
    const protection: utils.KeyPairOptions = passphrase
      ? { passphrase, cipher: 'aes256-ctr', rounds: 4 }
      : {};
    const pair =
      type === 'rsa'
        ? utils.generateKeyPairSync('rsa', { bits: 2048, ...protection })
        : utils.generateKeyPairSync('ed25519', protection);
    const parsed = utils.parseKey(pair.public);
    if (parsed instanceof Error || Array.isArray(parsed)) throw new Error('bad public key');
    return {
      privateKey: pair.private,
      ...(passphrase ? { passphrase } : {}),
      publicBlob: parsed.getPublicSSH(),
    };
  }

  function nodeKey(
    type: 'rsa' | 'ed25519' | 'ec',
    format: 'pkcs1' | 'pkcs8' | 'sec1',
    passphrase?: string,
  ) {
    const { privateKey } =
      type === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : type === 'ec'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519');
    const exportOptions: KeyExportOptions<'pem'> = {
      format: 'pem',
      type: format,
      ...(passphrase ? { cipher: 'aes-256-cbc', passphrase } : {}),
    };
    const pem = privateKey.export(exportOptions).toString();
    const publicBlob = loadPrivateKey(
      privateKey.export({ format: 'pem', type: type === 'ed25519' ? 'pkcs8' : format }).toString(),
    ).publicBlob;
    return { privateKey: pem, ...(passphrase ? { passphrase } : {}), publicBlob };
  }

  it.each(formats)('logs in with a %s key', async (_title, make) => {
    const key = make();
    const own = await listenSftp({
      host: '127.0.0.1',
      port: 0,
      root,
      hostKeys: [hostKey.private],
      user: USER,
      authorizedKeys: [authorizedKeyLine(key.publicBlob)],
    });
    try {
      const transport = await sftpConnector(
        options({ port: own.port, privateKey: key.privateKey, passphrase: key.passphrase }),
      ).connect();
      expect((await transport.list('')).map((entry) => entry.name).sort()).toEqual(FOLDERS);
      await transport.close();
      expect(own.logins).toBe(1);
    } finally {
      await own.close();
    }
  });

  it('keeps a PKCS#8 key as ssh2 reads it, decrypted once', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const loaded = loadPrivateKey(
      privateKey
        .export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'secret' })
        .toString(),
      'secret',
    );
    expect(loaded.type).toBe('ssh-ed25519');
    expect(loaded.pem).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    expect(
      createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })).asymmetricKeyType,
    ).toBe('ed25519');
    const again = loadPrivateKey(loaded.pem);
    expect(again.publicBlob.equals(loaded.publicBlob)).toBe(true);
  });

  it('refuses an unknown key: permanent, not retried, no secret in the message', async () => {
    const stranger = utils.generateKeyPairSync('rsa', { bits: 2048 });
    const before = server.authAttempts;
    const error = await rejection(
      sftpConnector(options({ privateKey: stranger.private, password: undefined })).connect(),
    );
    expect(error).toBeInstanceOf(TransportAuthError);
    expect(error.transient).toBe(false);
    expect(error.message).toContain(`connect sftp://${USER}@127.0.0.1:${server.port}`);
    expect(error.message).not.toMatch(/gave up after/);
    expect(server.authAttempts - before).toBeGreaterThan(0);
  });

  it('logs in with a password when the server takes one; a wrong one is refused unquoted', async () => {
    await withTransport(async (transport) => expect(await transport.list('IN')).toEqual([]), {
      privateKey: undefined,
      password: PASSWORD,
    });
    const error = await rejection(
      sftpConnector(options({ privateKey: undefined, password: `${PASSWORD}-wrong` })).connect(),
    );
    expect(error).toBeInstanceOf(TransportAuthError);
    expect(error.message).not.toContain(PASSWORD);
  });
});

describe('sftpConnector host key', () => {
  it('refuses a key that is not the pinned one before logging in: nothing is sent', async () => {
    const pinned = sshFingerprint(loadPrivateKey(otherHostKey.private).publicBlob);
    const before = server.authAttempts;
    const error = await rejection(sftpConnector(options({ hostKeySha256: pinned })).connect());
    expect(error).toBeInstanceOf(TransportHostKeyError);
    expect(error.transient).toBe(false);
    expect(error).toMatchObject({ actual: server.hostKeySha256, expected: pinned });
    expect(error.message).toContain(server.hostKeySha256);
    expect(error.message).toContain(pinned);
    expect(error.message).toContain('ssh-rsa');
    expect(server.authAttempts).toBe(before);
  });

  it('without a pin, refuses and prints the fingerprint to pin', async () => {
    const before = server.authAttempts;
    const error = await rejection(sftpConnector(options({ hostKeySha256: undefined })).connect());
    expect(error).toBeInstanceOf(TransportHostKeyError);
    expect(error.message).toContain(server.hostKeySha256);
    expect(error.message).toMatch(/pin it \(hostKeySha256\)/);
    expect(server.authAttempts).toBe(before);
  });

  it('with trustOnFirstUse, accepts the first key, reports it once, and holds later sessions to it', async () => {
    const events: HostKeyEvent[] = [];
    const connector = sftpConnector(
      options({
        hostKeySha256: undefined,
        trustOnFirstUse: true,
        onHostKey: (e) => events.push(e),
      }),
    );
    const first = await connector.connect();
    await first.close();
    const second = await connector.connect();
    await second.close();
    expect(events).toEqual([
      {
        where: connector.describe(),
        fingerprint: server.hostKeySha256,
        keyType: 'ssh-rsa',
        trust: 'first-use',
      },
    ]);

    // Another server on another port: a new connector trusts it, this one does not.
    const impostor = await listenSftp({
      host: '127.0.0.1',
      port: 0,
      root,
      hostKeys: [otherHostKey.private],
      user: USER,
      authorizedKeys: [clientKey.public],
    });
    try {
      const memory = sftpConnector(
        options({ port: impostor.port, hostKeySha256: undefined, trustOnFirstUse: true }),
      );
      await (await memory.connect()).close();
      await impostor.close();
      const replaced = await listenSftp({
        host: '127.0.0.1',
        port: impostor.port,
        root,
        hostKeys: [hostKey.private],
        user: USER,
        authorizedKeys: [clientKey.public],
      });
      try {
        const error = await rejection(memory.connect());
        expect(error).toBeInstanceOf(TransportHostKeyError);
        expect(error).toMatchObject({
          actual: server.hostKeySha256,
          expected: impostor.hostKeySha256,
        });
      } finally {
        await replaced.close();
      }
    } finally {
      await impostor.close();
    }
  });
});

describe('sftpConnector operations', () => {
  it('puts a multi-MB stream: bytes sent, size and the file on disk agree', async () => {
    const file = sourceFile('six-mb', 6 * MIB + 5);
    await withTransport(async (transport) => {
      expect(await transport.put(file.stream(), 'INTEST/FI.six')).toBe(file.data.length);
      expect(await transport.size('INTEST/FI.six')).toBe(file.data.length);
    });
    expect(readFileSync(onServer('INTEST/FI.six')).equals(file.data)).toBe(true);
    expect(uploaded).toEqual([onServer('INTEST/FI.six')]);
  });

  it('puts an empty file (a GO) and replaces a longer file of the same name', async () => {
    writeFileSync(onServer('INTEST/GO.empty'), 'previous content');
    await withTransport(async (transport) => {
      expect(await transport.put(Readable.from([]), 'INTEST/GO.empty')).toBe(0);
      expect(await transport.size('INTEST/GO.empty')).toBe(0);
    });
    expect(statSync(onServer('INTEST/GO.empty')).size).toBe(0);
  });

  it('gets a file into a stream and ends it; a missing one is not found', async () => {
    const data = randomBytes(3 * MIB + 17);
    writeFileSync(onServer('OUTTEST/FO.get'), data);
    await withTransport(async (transport) => {
      const sink = collector();
      let ended = false;
      sink.stream.on('finish', () => (ended = true));
      expect(await transport.get('OUTTEST/FO.get', sink.stream)).toBe(data.length);
      expect(ended).toBe(true);
      expect(sink.bytes().equals(data)).toBe(true);

      const empty = collector();
      writeFileSync(onServer('OUTTEST/GO.get'), '');
      expect(await transport.get('OUTTEST/GO.get', empty.stream)).toBe(0);

      const missing = new PassThrough();
      const error = await rejection(transport.get('OUTTEST/none', missing));
      expect(error).toBeInstanceOf(TransportNotFoundError);
      expect(missing.destroyed).toBe(true);
    });
  });

  it('lists files and folders with sizes; a missing folder is not found', async () => {
    mkdirSync(onServer('OUT/sub'), { recursive: true });
    writeFileSync(onServer('OUT/FO.list'), 'abc');
    await withTransport(async (transport) => {
      const entries = await transport.list('OUT');
      expect(entries).toContainEqual({ name: 'FO.list', size: 3, type: 'file' });
      expect(entries).toContainEqual(expect.objectContaining({ name: 'sub', type: 'directory' }));
      expect(entries.map((e) => e.name)).not.toContain('.');
      await expect(transport.list('NOPE')).rejects.toBeInstanceOf(TransportNotFoundError);
    });
  });

  it('size is undefined for a missing file and for a folder', async () => {
    await withTransport(async (transport) => {
      expect(await transport.size('IN/none')).toBeUndefined();
      expect(await transport.size('IN')).toBeUndefined();
    });
  });

  it('deletes: true when it was there, false when already absent', async () => {
    writeFileSync(onServer('OUT/FO.delete'), 'x');
    await withTransport(async (transport) => {
      expect(await transport.delete('OUT/FO.delete')).toBe(true);
      expect(await transport.delete('OUT/FO.delete')).toBe(false);
    });
    expect(existsSync(onServer('OUT/FO.delete'))).toBe(false);
  });

  it('renames over an existing file (no posix-rename here: delete, then rename)', async () => {
    writeFileSync(onServer('INTEST/tmp.rename'), 'new');
    writeFileSync(onServer('INTEST/GO.rename'), 'old, longer');
    await withTransport(async (transport) => {
      await transport.rename('INTEST/tmp.rename', 'INTEST/GO.rename');
      await transport.rename('INTEST/GO.rename', 'INTEST/GO.renamed');
      const error = await rejection(transport.rename('INTEST/tmp.rename', 'INTEST/x'));
      expect(error).toBeInstanceOf(TransportNotFoundError);
    });
    expect(readFileSync(onServer('INTEST/GO.renamed'), 'utf8')).toBe('new');
    expect(existsSync(onServer('INTEST/GO.rename'))).toBe(false);
  });

  it('refuses paths that leave the login folder before sending anything', async () => {
    await withTransport(async (transport) => {
      const source = Readable.from(['x']);
      await expect(transport.put(source, '../escape')).rejects.toMatchObject({
        code: 'TRANSPORT_PATH',
      });
      expect(source.destroyed).toBe(true);
      await expect(transport.size('/etc/passwd')).rejects.toMatchObject({ code: 'TRANSPORT_PATH' });
    });
  });

  it('runs operations called at once one after the other', async () => {
    await withTransport(async (transport) => {
      const names = Array.from({ length: 8 }, (_, i) => `INTEST/FI.burst.${i}`);
      const sizes = await Promise.all(
        names.map((name, i) => transport.put(Readable.from([Buffer.alloc(i * 1000, i)]), name)),
      );
      expect(sizes).toEqual(names.map((_, i) => i * 1000));
      expect(await Promise.all(names.map((name) => transport.size(name)))).toEqual(sizes);
    });
  });

  it('passes a failure of the caller’s stream on unchanged and stays usable', async () => {
    const failure = new Error('content check failed');
    await withTransport(async (transport) => {
      const source = new Readable({
        read() {
          this.push(Buffer.alloc(64 * 1024, 1));
          setImmediate(() => this.destroy(failure));
        },
      });
      await expect(transport.put(source, 'INTEST/FI.aborted')).rejects.toBe(failure);
      expect(await transport.put(Readable.from(['ok']), 'INTEST/FI.after')).toBe(2);
    });
  });

  it('is closed for good by close(), which may be called twice', async () => {
    const transport = await sftpConnector(options()).connect();
    await transport.close();
    await transport.close();
    await expect(transport.size('IN/x')).rejects.toBeInstanceOf(TransportClosedError);
  });
});

describe('sftpConnector on a failing network', () => {
  it('a connection cut mid-upload fails the put at once (transient), then a new put goes through', async () => {
    const file = sourceFile('cut', 4 * MIB);
    await withTransport(async (transport) => {
      script.dropAfter = MIB;
      const started = Date.now();
      const error = await rejection(transport.put(file.stream(), 'INTEST/FI.cut'));
      expect(Date.now() - started).toBeLessThan(3000);
      expect(error).toBeInstanceOf(TransportConnectError);
      expect(error.transient).toBe(true);
      expect(statSync(onServer('INTEST/FI.cut')).size).toBe(MIB);
      expect(uploaded).toEqual([]);

      expect(await transport.put(file.stream(), 'INTEST/FI.cut')).toBe(file.data.length);
    });
    expect(readFileSync(onServer('INTEST/FI.cut')).equals(file.data)).toBe(true);
  });

  it('a server that stops answering mid-upload times out (no hang) and the session is replaced', async () => {
    const file = sourceFile('stall', 2 * MIB);
    await withTransport(
      async (transport) => {
        script.throttle = 1; // a byte a second: the server takes the data and never answers
        const started = Date.now();
        const error = await rejection(transport.put(file.stream(), 'INTEST/FI.stall'));
        expect(error).toBeInstanceOf(TransportTimeoutError);
        expect(error.transient).toBe(true);
        expect(error.message).toMatch(/answered nothing for 800 ms/);
        expect(Date.now() - started).toBeLessThan(5000);
        delete script.throttle;
        expect(await transport.put(file.stream(), 'INTEST/FI.stall')).toBe(file.data.length);
      },
      { timeoutMs: 800 },
    );
  });

  it('a network black hole mid-upload times out too', async () => {
    const proxy = await startTcpProxy(server.port);
    const file = sourceFile('hole', 4 * MIB);
    try {
      const transport = await sftpConnector(
        options({ port: proxy.port, timeoutMs: 800 }),
      ).connect();
      try {
        proxy.stallAfter(MIB);
        const started = Date.now();
        const error = await rejection(transport.put(file.stream(), 'INTEST/FI.hole'));
        expect(error).toBeInstanceOf(TransportTimeoutError);
        expect(Date.now() - started).toBeLessThan(5000);
        proxy.resume();
        expect(await transport.put(file.stream(), 'INTEST/FI.hole')).toBe(file.data.length);
      } finally {
        await transport.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('a download cut half-way resumes where it stopped', async () => {
    const data = randomBytes(5 * MIB);
    writeFileSync(onServer('OUTTEST/FO.resume'), data);
    const proxy = await startTcpProxy(server.port);
    try {
      const transport = await sftpConnector(options({ port: proxy.port })).connect();
      try {
        proxy.cutAfter(2 * MIB, 'down');
        const sink = collector();
        expect(await transport.get('OUTTEST/FO.resume', sink.stream)).toBe(data.length);
        expect(sink.bytes().equals(data)).toBe(true);
        expect(proxy.connections).toBe(2);
      } finally {
        await transport.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('a connection cut in the middle of an answer fails the request at once (found hanging)', async () => {
    // ssh2 left a listing cut mid-reply unanswered, and the dead session's watchdog was off.
    for (let i = 0; i < 40; i += 1) writeFileSync(onServer(`OUTTEST/FO.cut-listing-${i}`), 'x');
    const proxy = await startFaultProxy({ targetPort: server.port, ftp: false });
    try {
      const transport = await sftpConnector(
        options({ port: proxy.port, operationRetry: { ...FAST_RETRY, attempts: 1 } }),
      ).connect();
      try {
        proxy.arm({ kind: 'cut', channel: 'control', direction: 'down', afterBytes: 100 });
        const outcome = await Promise.race([
          rejection(transport.list('OUTTEST')),
          new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 4000)),
        ]);
        expect(outcome).toBeInstanceOf(TransportConnectError);
        expect(proxy.stats.fired).toEqual(['cut control down after 100']);
      } finally {
        await transport.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('a refused connection is retried, then reported as transient', async () => {
    const proxy = await startTcpProxy(1); // nothing listens on port 1
    const port = proxy.port;
    await proxy.close();
    const error = await rejection(sftpConnector(options({ port })).connect());
    expect(error).toBeInstanceOf(TransportConnectError);
    expect(error.transient).toBe(true);
    expect(error.message).toMatch(/gave up after 3 attempts/);
    expect(error).toBeInstanceOf(TransportError);
  });
});
