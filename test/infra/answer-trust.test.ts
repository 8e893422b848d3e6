import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ANSWER_TRUST_ENV_NAMES } from '../../functions/config/names';
import { buildApp, type TransferApp } from '../../infra/app';
import { ContextConfigError, parseConfig } from '../../infra/config';
import { awsSolutionsFindings } from './nag-report';

// The answers' trust on AWS: the pull function alone gets the pinned fingerprints and the CA
// bundle's secret, by name and by grant, and only when the context gives them.

const CA_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:onss/answer-ca-QwErTy';
const PIN = 'ab'.repeat(32);
const PIN_NORMALISED = PIN.toUpperCase().match(/../g)?.join(':') ?? '';
const OTHER_PIN = 'CD'.repeat(32).match(/../g)?.join(':') ?? '';

interface Resource {
  Properties: Record<string, unknown>;
}
interface Statement {
  Action: string | string[];
  Resource: unknown;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function variablesOf(template: Template, prefix: string): Record<string, unknown> {
  const [fn] = Object.entries(
    template.findResources('AWS::Lambda::Function') as Record<string, Resource>,
  ).filter(([id]) => id.startsWith(prefix));
  return (fn?.[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
}

function statementsOf(template: Template, prefix: string): Statement[] {
  const [policy] = Object.entries(
    template.findResources('AWS::IAM::Policy') as Record<string, Resource>,
  ).filter(([id]) => id.startsWith(`${prefix}ServiceRoleDefaultPolicy`));
  return (policy?.[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

const readsCaSecret = (statement: Statement): boolean =>
  JSON.stringify(statement.Resource).includes(CA_ARN);

describe('OnssTransfer stack, answers pinned and a CA bundle secret', () => {
  let built: TransferApp;
  let template: Template;
  let reportDir: string;

  beforeAll(() => {
    reportDir = mkdtempSync(join(tmpdir(), 'onss-transfer-cdk-'));
    dirs.push(reportDir);
    built = buildApp({
      outdir: reportDir,
      context: {
        sender: '123456',
        host: 'transfer.example.be',
        answerFingerprints: `${PIN}, ${OTHER_PIN}`,
        answerCaSecretArn: CA_ARN,
      },
    });
    built.app.synth();
    template = Template.fromStack(built.stack);
  });

  it('gives the pull function the pins and the CA secret, the send function neither', () => {
    expect(variablesOf(template, 'PullFunction')).toMatchObject({
      [ANSWER_TRUST_ENV_NAMES.fingerprints]: `${PIN_NORMALISED},${OTHER_PIN}`,
      [ANSWER_TRUST_ENV_NAMES.caSecretId]: CA_ARN,
    });
    const send = variablesOf(template, 'SendFunction');
    expect(Object.keys(send)).not.toContain(ANSWER_TRUST_ENV_NAMES.fingerprints);
    expect(Object.keys(send)).not.toContain(ANSWER_TRUST_ENV_NAMES.caSecretId);
  });

  it('lets the pull function alone read the CA secret, which it does not create', () => {
    const pull = statementsOf(template, 'PullFunction').filter(readsCaSecret);
    expect(pull).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      }),
    ]);
    expect(statementsOf(template, 'SendFunction').filter(readsCaSecret)).toEqual([]);
    // The two secrets of the stack, not a third one for the bundle.
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
  });

  it('leaves no AwsSolutions finding', () => {
    expect(awsSolutionsFindings(reportDir)).toEqual([]);
    const annotations = Annotations.fromStack(built.stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
  });
});

describe('parseConfig: the answers trust', () => {
  const problemsOf = (context: Record<string, unknown>): readonly string[] => {
    try {
      parseConfig((key) => context[key]);
      return [];
    } catch (error) {
      if (error instanceof ContextConfigError) return error.problems;
      throw error;
    }
  };

  it('reads pins from -c (comma-separated) and from cdk.json (a list), normalised', () => {
    expect(
      parseConfig((key) => ({ answerFingerprints: ` ${PIN} ,${OTHER_PIN}` })[key as string]),
    ).toMatchObject({ answerFingerprints: [PIN_NORMALISED, OTHER_PIN] });
    expect(
      parseConfig((key) => ({ answerFingerprints: [PIN, OTHER_PIN.toLowerCase()] })[key as string]),
    ).toMatchObject({ answerFingerprints: [PIN_NORMALISED, OTHER_PIN] });
    expect(parseConfig((key) => ({ answerCaSecretArn: CA_ARN })[key as string])).toMatchObject({
      answerFingerprints: [],
      answerCaSecretArn: CA_ARN,
    });
  });

  it.each([
    [
      'a pin that is not a fingerprint',
      { answerFingerprints: `${PIN},SHA256:abc` },
      'answerFingerprints: "SHA256:abc" is not a SHA-256 certificate fingerprint (64 hex digits, colons optional)',
    ],
    [
      'a list holding a number',
      { answerFingerprints: [PIN, 42] },
      `answerFingerprints: must be a string or a list of strings, got ["${PIN}",42]`,
    ],
    [
      'nine pins',
      { answerFingerprints: Array.from({ length: 9 }, (_, i) => String(i).repeat(64)) },
      'answerFingerprints: at most 8 fingerprints, got 9',
    ],
    [
      'a CA secret that is not a complete ARN',
      { answerCaSecretArn: 'onss/answer-ca' },
      'answerCaSecretArn: must be the complete ARN of a Secrets Manager secret, with its 6-character suffix, got "onss/answer-ca"',
    ],
    [
      'the signing secret as the CA secret',
      { answerCaSecretArn: CA_ARN, signingSecretArn: CA_ARN },
      'answerCaSecretArn: must be a secret of its own (a PEM CA bundle), not the signing or the server secret',
    ],
  ])('refuses %s, naming the key', (_, context, problem) => {
    expect(problemsOf(context)).toEqual([problem]);
  });
});
