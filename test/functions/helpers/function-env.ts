import { ENV_NAMES } from '../../../functions/config/names';

/** A complete, valid environment of both functions, for configuration and handler tests. */
export const FUNCTION_ENV: Readonly<Record<string, string>> = {
  [ENV_NAMES.bucket]: 'onss-bucket',
  [ENV_NAMES.ledgerTable]: 'Ledger-1',
  [ENV_NAMES.sender]: '123456',
  [ENV_NAMES.host]: 'transfer.example.be',
  [ENV_NAMES.port]: '21',
  [ENV_NAMES.protocol]: 'ftp',
  [ENV_NAMES.serverSecretId]: 'server',
  [ENV_NAMES.signingSecretId]: 'signing',
  [ENV_NAMES.eventBus]: 'default',
  [ENV_NAMES.topicArn]: 'arn:aws:sns:eu-west-1:111122223333:onss',
  [ENV_NAMES.outboxPrefix]: 'outbox/',
  [ENV_NAMES.responsesPrefix]: 'responses/',
  [ENV_NAMES.environments]: 'R, T,T',
  [ENV_NAMES.sendQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/111122223333/onss-send',
};
