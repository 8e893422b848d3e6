/**
 * The names of the environment variables the Lambda functions read. `infra/` sets them and
 * `functions/` reads them through these constants, so the two can never drift apart.
 */
export const ENV_NAMES = {
  /** The bucket holding the outbox (declarations to send) and the stored responses. */
  bucket: 'ONSS_BUCKET',
  /** Key prefix of declarations to send, with its trailing slash (`outbox/`). */
  outboxPrefix: 'ONSS_OUTBOX_PREFIX',
  /** Key prefix under which pulled responses are stored (`responses/`). */
  responsesPrefix: 'ONSS_RESPONSES_PREFIX',
  /** The DynamoDB table of the ledger. */
  ledgerTable: 'ONSS_LEDGER_TABLE',
  /** Secrets Manager id (name or ARN) of the signing material. */
  signingSecretId: 'ONSS_SIGNING_SECRET_ID',
  /** Secrets Manager id (name or ARN) of the transfer point credentials. */
  serverSecretId: 'ONSS_SERVER_SECRET_ID',
  /** How long a fetched secret is reused, in seconds. */
  secretTtlSeconds: 'ONSS_SECRET_TTL_SECONDS',
  /** The sender number registered with the transfer point (6 digits or more). */
  sender: 'ONSS_SENDER',
  /** Transfer point host name. */
  host: 'ONSS_HOST',
  /** Transfer point port. */
  port: 'ONSS_PORT',
  /** Channel: `ftp` (FTPS and SFTP come with their own issue). */
  protocol: 'ONSS_PROTOCOL',
  /** Environments the pull function pulls, comma-separated letters (`R,T,S`). */
  environments: 'ONSS_ENVIRONMENTS',
  /** Name of the EventBridge bus the events go to. */
  eventBus: 'ONSS_EVENT_BUS',
  /** ARN of the SNS topic that gets a readable message per state change. */
  topicArn: 'ONSS_TOPIC_ARN',
  /** `true` to sign T and S declarations too (R always is); default false. */
  signTest: 'ONSS_SIGN_TEST',
  /** The watchdog (pull function): minutes after the GO within which the ACRF should come. */
  overdueAckMinutes: 'ONSS_OVERDUE_ACK_MINUTES',
  /** The watchdog: hours after the ACRF within which a notifying application notifies. */
  overdueNotificationHours: 'ONSS_OVERDUE_NOTIFICATION_HOURS',
  /** The watchdog: the applications that notify after their ACRF, comma-separated (`DMFA`). */
  overdueNotifyingApps: 'ONSS_OVERDUE_NOTIFYING_APPS',
  /**
   * The named channels, a JSON list (functions/config/channels.ts); when set, it replaces the
   * single-channel variables (sender, host, port, protocol, secrets, answer trust).
   */
  channels: 'ONSS_CHANNELS',
  /** Sends at once through the single unnamed channel (default 1). */
  maxSends: 'ONSS_MAX_SENDS',
  /** The send queue's URL: a message whose channel is busy is put back there with a delay. */
  sendQueueUrl: 'ONSS_SEND_QUEUE_URL',
} as const;

/** One of the variable names. */
export type EnvName = (typeof ENV_NAMES)[keyof typeof ENV_NAMES];

/**
 * Variables the pull function alone reads, each set by the stack only when its context key is
 * given: whose signatures the answers must carry. With neither, the answers' signers are not
 * checked against a trust and every run logs a warning saying so.
 */
export const ANSWER_TRUST_ENV_NAMES = {
  /**
   * SHA-256 fingerprints of the certificates the transfer point signs its answers with,
   * comma-separated (context `answerFingerprints`).
   */
  fingerprints: 'ONSS_ANSWER_FINGERPRINTS',
  /**
   * Secrets Manager id of a secret whose value is a PEM CA bundle the answers' signer must
   * chain to (context `answerCaSecretArn`).
   */
  caSecretId: 'ONSS_ANSWER_CA_SECRET_ID',
} as const;

/**
 * The functions' service name (POWERTOOLS_SERVICE_NAME): Powertools tags logs and metrics with
 * it, and the alarms select metrics by it.
 */
export const SERVICE_NAME = 'onss-transfer';

/** The `source` of every EventBridge event the functions put. */
export const EVENT_SOURCE = 'onss-transfer';

/** Metric namespace of the functions (Powertools). */
export const METRICS_NAMESPACE = 'OnssTransfer';

/** Metric names, shared by the functions that emit them and the dashboard and alarms. */
export const METRIC_NAMES = {
  declarationsSent: 'DeclarationsSent',
  bytesSent: 'BytesSent',
  partsSent: 'PartsSent',
  sendDuration: 'SendDuration',
  answers: 'Answers',
  pullSuccess: 'PullSuccess',
  certificateDaysLeft: 'CertificateDaysLeft',
  declarationsRefused: 'DeclarationsRefused',
  /** Sets an operator cancelled through the outbox's cancel/ folder. */
  declarationsCancelled: 'DeclarationsCancelled',
  /** Waits the watchdog marked overdue in a run (each wait counts once, ever). */
  overdue: 'OverdueDeclarations',
  /** Days since the channel's server secret (password or SSH key) was last changed. */
  serverCredentialAgeDays: 'ServerCredentialAgeDays',
  /** Messages put back with a delay because their channel had no free send slot. */
  sendsDeferred: 'SendsDeferred',
  /** A server that showed another host key or certificate than the pinned one. */
  serverIdentityChanged: 'ServerIdentityChanged',
} as const;

/**
 * The dimension naming the channel on every per-channel metric (PullSuccess,
 * CertificateDaysLeft, ServerCredentialAgeDays...) of a deployment with named channels; a
 * deployment of one unnamed channel puts them without it.
 */
export const CHANNEL_DIMENSION = 'channel';
