/**
 * Where secrets come from: Secrets Manager on AWS, environment variables or files locally.
 * A secret is one string (our secrets are JSON documents, parsed by `parse.ts`); the id is the
 * source's own (a secret name or ARN, `env:NAME`, `file:PATH`).
 */
export interface SecretSource {
  /**
   * The secret's current value. Rejects with a SecretAccessError when it cannot be had; the
   * value never appears in an error or a log line.
   */
  getSecretString(id: string): Promise<string>;
}
