import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localSecretSource, SecretAccessError } from '../../shared/secrets';
import { scratchDir } from '../helpers/pki';

const { dir, cleanup } = scratchDir('onss-local-secret-');
afterAll(cleanup);

describe('localSecretSource', () => {
  const source = localSecretSource({ env: { SERVER_SECRET: '{"user":"u","password":"p"}' } });

  it('reads env:NAME from the given environment', async () => {
    await expect(source.getSecretString('env:SERVER_SECRET')).resolves.toBe(
      '{"user":"u","password":"p"}',
    );
  });

  it('reads file:PATH whole', async () => {
    const path = join(dir, 'signing.json');
    writeFileSync(path, '{"format":"pem"}\n', { mode: 0o600 });
    await expect(source.getSecretString(`file:${path}`)).resolves.toBe('{"format":"pem"}\n');
  });

  it.each([
    {
      title: 'an unset variable',
      id: 'env:NOT_SET',
      code: 'SECRET_NOT_FOUND',
      message: /NOT_SET is not set/,
    },
    {
      title: 'a bad variable name',
      id: 'env:not a name',
      code: 'SECRET_NOT_FOUND',
      message: /environment variable/,
    },
    {
      title: 'a missing file',
      id: `file:${join(dir, 'none')}`,
      code: 'SECRET_NOT_FOUND',
      message: /ENOENT/,
    },
    {
      title: 'another kind of id',
      id: 'arn:aws:secretsmanager:x',
      code: 'SECRET_NOT_FOUND',
      message: /env:NAME or file:PATH/,
    },
  ])('refuses $title', async ({ id, code, message }) => {
    const reading = source.getSecretString(id);
    await expect(reading).rejects.toBeInstanceOf(SecretAccessError);
    await expect(reading).rejects.toMatchObject({ code, transient: false });
    await expect(reading).rejects.toThrow(message);
  });

  it('says access denied for an unreadable file', async () => {
    if (process.getuid?.() === 0) return; // root reads anything
    const path = join(dir, 'locked.json');
    writeFileSync(path, 'x');
    chmodSync(path, 0o000);
    await expect(source.getSecretString(`file:${path}`)).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
    });
  });
});
