import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'cdk.out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: 'error',
    },
  },
  {
    // The domain core runs the same in Lambda, the CLI and tests because it depends on none of
    // them: storage, secrets, ledger, transport and notifications reach it through ports.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'ssh2',
              importNames: ['Server'],
              message: 'The core is an SSH client; the SSH server lives in transfer-point/.',
            },
          ],
          patterns: [
            {
              regex: '(^|/)(functions|infra|cli|bench|test|transfer-point)(/|$)',
              message:
                'The core (shared/) never imports a handler, the stack, the CLI, a bench, a test or the local transfer point: they import it.',
            },
            {
              regex:
                '^(@aws-sdk|@smithy|@aws-lambda-powertools|aws-cdk-lib|constructs|cdk-nag)(/|$)',
              message:
                'The core never imports AWS: give it a port and put the AWS adapter in functions/.',
            },
            {
              regex: '^ftp-srv(/|$)',
              message:
                'An FTP server belongs to the local transfer point (transfer-point/), not the core.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
