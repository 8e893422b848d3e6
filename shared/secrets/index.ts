export type { SecretSource } from './port';
export {
  SECRET_CODES,
  SecretAccessError,
  SecretError,
  SecretFormatError,
  WHOLE_VALUE,
} from './errors';
export type { SecretAccessCode } from './errors';
export {
  formatSigningSecret,
  loadSigningSecret,
  parseServerSecret,
  parseSigningSecret,
  signingMaterialFromSecret,
} from './parse';
export type {
  PasswordCredentials,
  Pkcs12SigningSecret,
  PemSigningSecret,
  ServerCredentials,
  ServerTrust,
  SigningSecret,
  SshKeyCredentials,
} from './parse';
export { credentialAgeDays } from './credential-age';
export { localSecretSource } from './local';
export type { LocalSecretOptions } from './local';
