/**
 * Builds the core's ports on AWS from a function's configuration: one set of SDK clients per
 * container, the secrets behind a TTL cache, the ledger on DynamoDB, the notifier on
 * EventBridge and SNS, the transport from the server secret. Everything here is wiring; the
 * handlers call it once per cold start.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Ledger } from '../shared/ledger';
import { fanOut, type Notifier } from '../shared/notify';
import {
  loadSigningSecret,
  parseServerSecret,
  type SecretSource,
  type ServerTrust,
} from '../shared/secrets';
import type { AnswerTrust, SigningMaterial } from '../shared/signing';
import { makeAnswerTrust } from '../shared/signing/answer-trust';
import { ftpConnector, sftpConnector, type TransportConnector } from '../shared/transport';
import { createDynamoDbLedger } from './aws/dynamodb-ledger';
import { openS3Source } from './aws/s3-source';
import { s3ObjectStore } from './aws/s3-store';
import { eventBridgeNotifier } from './aws/eventbridge-notifier';
import { secretLastChanged, secretsManagerSource } from './aws/secrets-manager';
import { snsNotifier } from './aws/sns-notifier';
import {
  ConfigurationError,
  type ChannelConfig,
  type AnswerTrustConfig,
  type ChannelSettings,
  type CommonConfig,
  type PullConfig,
  type SendConfig,
} from './config/environment';
import type { PullChannelPorts, PullDependencies } from './pull/process';
import { underResponsesPrefix } from './pull/response-store';
import type { SendDependencies } from './send/process';

/** The SDK clients a function uses, created once per container (they hold connection pools). */
export interface AwsClients {
  s3: S3Client;
  dynamodb: DynamoDBClient;
  secrets: SecretsManagerClient;
  eventBridge: EventBridgeClient;
  sns: SNSClient;
  sqs: SQSClient;
}

/** Clients for the function's own region and role (from the Lambda environment). */
export function createAwsClients(): AwsClients {
  return {
    s3: new S3Client({}),
    dynamodb: new DynamoDBClient({}),
    secrets: new SecretsManagerClient({}),
    eventBridge: new EventBridgeClient({}),
    sns: new SNSClient({}),
    sqs: new SQSClient({}),
  };
}

/** The ports every function uses, built from its configuration. */
export interface CommonPorts {
  ledger: Ledger;
  notifier: Notifier;
  secrets: SecretSource;
  /** Each channel's ports, in the configuration's order. */
  channels: ChannelPorts[];
}

/** One channel's ports: its account and its signing material, read from its own secrets. */
export interface ChannelPorts {
  settings: ChannelSettings;
  signingMaterial: () => Promise<SigningMaterial>;
  connector: () => Promise<TransportConnector>;
  answerTrust: () => Promise<AnswerTrust | undefined>;
  /** When its server secret was last changed or rotated (DescribeSecret). */
  serverSecretChangedAt: () => Promise<Date>;
}

/** Builds the common ports on the given clients. */
export function commonPorts(config: CommonConfig, clients: AwsClients): CommonPorts {
  const secrets = secretsManagerSource({
    client: clients.secrets,
    ...(config.secretTtlSeconds === undefined ? {} : { ttlSeconds: config.secretTtlSeconds }),
  });
  return {
    ledger: createDynamoDbLedger({ client: clients.dynamodb, tableName: config.ledgerTable }),
    notifier: fanOut(
      eventBridgeNotifier({ client: clients.eventBridge, eventBusName: config.eventBus }),
      snsNotifier({ client: clients.sns, topicArn: config.topicArn }),
    ),
    secrets,
    channels: config.channels.map((settings) => ({
      settings,
      signingMaterial: materialLoader(secrets, settings.signingSecretId),
      connector: connectorLoader(secrets, settings.server),
      answerTrust: answerTrustLoader(secrets, settings.answerTrust),
      serverSecretChangedAt: () =>
        secretLastChanged(clients.secrets, settings.server.serverSecretId),
    })),
  };
}

/**
 * The signing material of a secret, read again only when the secret's value changed (the
 * source's cache decides how often it is fetched): parsing a PKCS#12 costs tens of ms.
 */
export function materialLoader(secrets: SecretSource, id: string): () => Promise<SigningMaterial> {
  let last: { value: string; material: SigningMaterial } | undefined;
  return async () => {
    const value = await secrets.getSecretString(id);
    if (last?.value !== value) last = { value, material: loadSigningSecret(value) };
    return last.material;
  };
}

/**
 * The trust the answers' signers are held to: the configured fingerprints and, when a CA
 * secret is named, the PEM bundle it holds (read through the secrets' cache, parsed again only
 * when its value changed). Undefined when neither is configured. A CA secret that cannot be
 * read or parsed throws: the run stops rather than pull without the trust it was given.
 */
export function answerTrustLoader(
  secrets: SecretSource,
  config: AnswerTrustConfig,
): () => Promise<AnswerTrust | undefined> {
  let last: { pem: string; trust: AnswerTrust | undefined } | undefined;
  const { caSecretId, fingerprints } = config;
  return async () => {
    if (caSecretId === undefined) return makeAnswerTrust({ fingerprints });
    const pem = await secrets.getSecretString(caSecretId);
    if (last?.pem !== pem) {
      const source = `the CA bundle secret ${caSecretId}`;
      last = { pem, trust: makeAnswerTrust({ fingerprints, caBundle: { pem, source } }) };
    }
    return last.trust;
  };
}

/**
 * A connector to the transfer point over the configured channel, with the credentials and the
 * server trust of the server secret: FTP and FTPS need a password (FTPS checks the server's
 * certificate against the system CAs, or `caPem`); SFTP needs a pinned host key, since a
 * function has nobody to show a first fingerprint to, and a key or a password.
 */
export function connectorLoader(
  secrets: SecretSource,
  channel: ChannelConfig,
): () => Promise<TransportConnector> {
  return async () => {
    const credentials = parseServerSecret(await secrets.getSecretString(channel.serverSecretId));
    refuseOtherProtocolsTrust(credentials, channel.protocol);
    const server = { host: channel.host, port: channel.port, user: credentials.user };
    if (channel.protocol === 'sftp') {
      if (credentials.hostKeySha256 === undefined) {
        throw new ConfigurationError([
          'the server secret has no "hostKeySha256": SFTP needs the server\'s host key pinned',
        ]);
      }
      return sftpConnector({
        ...server,
        hostKeySha256: credentials.hostKeySha256,
        ...('password' in credentials
          ? { password: credentials.password }
          : {
              privateKey: credentials.privateKeyPem,
              ...(credentials.passphrase === undefined
                ? {}
                : { passphrase: credentials.passphrase }),
            }),
      });
    }
    if (!('password' in credentials)) {
      throw new ConfigurationError([
        `the server secret holds an SSH key, which ${channel.protocol} cannot use: give a password`,
      ]);
    }
    return ftpConnector({
      ...server,
      password: credentials.password,
      ...(channel.protocol === 'ftps'
        ? {
            secure: true,
            ...(credentials.caPem === undefined ? {} : { ca: credentials.caPem }),
            ...(credentials.serverCertSha256 === undefined
              ? {}
              : { serverCertSha256: credentials.serverCertSha256 }),
          }
        : {}),
    });
  };
}

/** The server secret's trust fields and the one protocol each is for. */
const TRUST_PROTOCOLS = {
  hostKeySha256: 'sftp',
  caPem: 'ftps',
  serverCertSha256: 'ftps',
} as const satisfies Record<keyof ServerTrust, ChannelConfig['protocol']>;

/**
 * Refuses a server secret whose trust is for another protocol than the channel's: a pin the
 * channel would not use is a pin an operator believes in force (an `ftps` mistyped `ftp` would
 * log in in the clear), so the function stops rather than connect without it.
 */
function refuseOtherProtocolsTrust(
  credentials: ServerTrust,
  protocol: ChannelConfig['protocol'],
): void {
  const unused = (Object.keys(TRUST_PROTOCOLS) as Array<keyof ServerTrust>).filter(
    (field) => credentials[field] !== undefined && TRUST_PROTOCOLS[field] !== protocol,
  );
  if (unused.length > 0) {
    throw new ConfigurationError([
      `the server secret holds ${unused.map((field) => `"${field}"`).join(', ')}, for ` +
        `${unused.map((field) => TRUST_PROTOCOLS[field]).join(', ')}, but the channel's ` +
        `protocol is ${protocol}: fix the protocol, or remove the field`,
    ]);
  }
}

/** A channel's server as events name it: `ftps://host:port` (no user, no secret). */
function serverName(server: ChannelConfig): string {
  return `${server.protocol}://${server.host}:${server.port}`;
}

/** What the send function runs with, but for its logger and metrics. */
export type SendPorts = Omit<SendDependencies, 'log' | 'metrics'>;

/**
 * The send function's ports: the common ones, declarations read from S3 as streams, and the
 * send queue to put back a message whose channel is busy.
 */
export function sendPorts(
  config: SendConfig,
  clients: AwsClients,
  ports: CommonPorts = commonPorts(config, clients),
): SendPorts {
  return {
    config,
    channels: ports.channels.map(({ settings, signingMaterial, connector }) => ({
      ...(settings.name === undefined ? {} : { name: settings.name }),
      sender: settings.sender,
      maxSends: settings.maxSends,
      server: serverName(settings.server),
      signingMaterial,
      connector,
    })),
    ledger: ports.ledger,
    notifier: ports.notifier,
    openSource: (ref) => openS3Source({ client: clients.s3, ...ref }),
    requeue: async (body, delaySeconds) => {
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: config.sendQueueUrl,
          MessageBody: body,
          DelaySeconds: delaySeconds,
        }),
      );
    },
  };
}

/** What the pull function runs with, but for what each invocation brings. */
export interface PullPorts {
  base: Omit<
    PullDependencies,
    | 'log'
    | 'metrics'
    | 'countAnswer'
    | 'owner'
    | 'leaseMs'
    | 'connector'
    | 'signingMaterial'
    | 'answerTrust'
    | 'channel'
  >;
  channels: PullChannelPorts[];
}

/** The pull function's ports: the common ones, and the bucket under the responses prefix. */
export function pullPorts(
  config: PullConfig,
  clients: AwsClients,
  ports: CommonPorts = commonPorts(config, clients),
): PullPorts {
  return {
    base: {
      environments: config.environments,
      overdueRules: config.overdue,
      ledger: ports.ledger,
      notifier: ports.notifier,
      store: underResponsesPrefix(
        s3ObjectStore({ client: clients.s3, bucket: config.bucket }),
        config.responsesPrefix,
      ),
    },
    channels: ports.channels.map(({ settings, ...channel }) => ({
      ...(settings.name === undefined ? {} : { name: settings.name }),
      server: serverName(settings.server),
      ...channel,
    })),
  };
}
