import { readFile } from 'node:fs/promises';
import { SECRET_CODES, SecretAccessError } from './errors';
import type { SecretSource } from './port';

/** Where {@link localSecretSource} looks. */
export interface LocalSecretOptions {
  /** The environment to read `env:NAME` ids from; default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Secrets for the CLI and tests, from the machine itself. Ids are `env:NAME` (the value of an
 * environment variable) or `file:PATH` (a file's whole content, read each time: keep such files
 * readable by their owner only). Any other id is refused with SECRET_NOT_FOUND.
 */
export function localSecretSource(options: LocalSecretOptions = {}): SecretSource {
  const env = options.env ?? process.env;
  return {
    async getSecretString(id: string): Promise<string> {
      if (id.startsWith('env:')) {
        const name = id.slice('env:'.length);
        if (!ENV_NAME.test(name)) {
          throw new SecretAccessError(
            'env: secret ids name an environment variable (letters, digits, _)',
            {
              code: SECRET_CODES.NOT_FOUND,
              transient: false,
            },
          );
        }
        const value = env[name];
        if (value === undefined) {
          throw new SecretAccessError(`environment variable ${name} is not set`, {
            code: SECRET_CODES.NOT_FOUND,
            transient: false,
          });
        }
        return value;
      }
      if (id.startsWith('file:') && id.length > 'file:'.length) {
        const path = id.slice('file:'.length);
        try {
          return await readFile(path, 'utf8');
        } catch (cause) {
          const code = (cause as { code?: unknown }).code;
          const denied = code === 'EACCES' || code === 'EPERM';
          throw new SecretAccessError(
            `cannot read the secret file ${path} (${typeof code === 'string' ? code : 'unreadable'})`,
            {
              code: denied ? SECRET_CODES.ACCESS_DENIED : SECRET_CODES.NOT_FOUND,
              transient: false,
              cause,
            },
          );
        }
      }
      throw new SecretAccessError('local secret ids are env:NAME or file:PATH', {
        code: SECRET_CODES.NOT_FOUND,
        transient: false,
      });
    },
  };
}
