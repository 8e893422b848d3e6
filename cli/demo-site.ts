/**
 * The demo's two accounts: a local transfer point per channel (each its own sender, user and
 * password, speaking the chosen protocol), and the channels file that names them, with the
 * throwaway signing key, the servers' trust and the answers' pinned signer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../transfer-point';

/** The protocols the demo runs over. */
export type DemoProtocol = 'ftp' | 'ftps' | 'sftp';

/** One demo channel: its name, sender, local transfer point and password variable. */
export interface DemoChannel {
  name: string;
  sender: string;
  simulator: Simulator;
  passwordEnv: string;
}

/** Starts the local transfer point of a channel, in `root`. */
export function startChannelSimulator(
  root: string,
  sender: string,
  user: string,
  protocol: DemoProtocol,
): Promise<Simulator> {
  return startSimulator({
    root,
    sender,
    user,
    signatureRequiredFor: { T: true },
    notificationDelayMs: 100,
    ...(protocol === 'ftps' ? { tls: true as const } : {}),
    ...(protocol === 'sftp' ? { sftp: true as const } : {}),
  });
}

/**
 * The server flags of a channel's account, as a user would type them (`--protocol ftps
 * --ca-file ...`, `--protocol sftp --ssh-key ... --host-key-sha256 ...`); writes the CA or the
 * SSH key they name into `dir`.
 */
export function serverFlags(channel: DemoChannel, protocol: DemoProtocol, dir: string): string[] {
  const { simulator } = channel;
  const caFile = join(dir, `${channel.name}-ca.pem`);
  const sshKey = join(dir, `${channel.name}-sftp-key.pem`);
  if (protocol === 'ftps') writeFileSync(caFile, simulator.caPem ?? '');
  if (protocol === 'sftp') writeFileSync(sshKey, simulator.privateKeyPem ?? '', { mode: 0o600 });
  return [
    ...['--host', simulator.host, '--port', String(simulator.port), '--user', simulator.user],
    ...['--password-env', channel.passwordEnv],
    ...(protocol === 'ftps' ? ['--protocol', 'ftps', '--ca-file', caFile] : []),
    ...(protocol === 'sftp'
      ? [
          '--protocol',
          'sftp',
          '--ssh-key',
          sshKey,
          '--host-key-sha256',
          simulator.hostKeySha256 ?? '',
        ]
      : []),
  ];
}

/**
 * Writes the channels file of the demo's channels: each its server, user, protocol, password
 * variable and trust, the signing key and certificate, and its transfer point's answer signer.
 */
export function writeChannelsFile(
  path: string,
  channels: readonly DemoChannel[],
  protocol: DemoProtocol,
  dir: string,
  signing: { key: string; cert: string },
): void {
  const entries = channels.map((channel) => {
    const flags = serverFlags(channel, protocol, dir);
    const flag = (name: string) => {
      const at = flags.indexOf(name);
      return at < 0 ? undefined : flags[at + 1];
    };
    return {
      name: channel.name,
      sender: channel.sender,
      host: channel.simulator.host,
      port: channel.simulator.port,
      user: channel.simulator.user,
      protocol,
      passwordEnv: channel.passwordEnv,
      ...(protocol === 'ftps' ? { caFile: flag('--ca-file') } : {}),
      ...(protocol === 'sftp'
        ? { sshKey: flag('--ssh-key'), hostKeySha256: flag('--host-key-sha256') }
        : {}),
      key: signing.key,
      cert: signing.cert,
      signTest: true,
      answerFingerprints: [channel.simulator.certificateFingerprint],
    };
  });
  writeFileSync(path, `${JSON.stringify({ channels: entries }, null, 2)}\n`);
}
