/**
 * The cdk-nag (AwsSolutions) findings the stack acknowledges, each on the narrowest construct
 * and finding id that carries it, with the reason it is accepted. cdk-nag 3 reports through
 * CDK's policy validation, so acknowledgements are `Validations.of(scope).acknowledge()`: one
 * id per call, applying to the scope and everything below it.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { OnssTransferStack } from './stack';

/** One acknowledged finding: where, which, why. */
export interface NagAcknowledgement {
  scope: IConstruct;
  id: string;
  reason: string;
}

const MANAGED_POLICY = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role';
const BASIC_EXECUTION = `AwsSolutions-IAM4[${MANAGED_POLICY}/AWSLambdaBasicExecutionRole]`;
const VPC_ACCESS = `AwsSolutions-IAM4[${MANAGED_POLICY}/AWSLambdaVPCAccessExecutionRole]`;

/** The acknowledgements of the stack, as data (the tests list them). */
export function nagAcknowledgements(stack: OnssTransferStack): NagAcknowledgement[] {
  const arnOf = (construct: IConstruct): string =>
    `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;
  const bucket = arnOf(stack.bucket);
  const table = arnOf(stack.table);
  const outbox = stack.config.outboxPrefix;
  const responses = stack.config.responsesPrefix;
  const list: NagAcknowledgement[] = [];
  const add = (scope: IConstruct, id: string, reason: string): void => {
    list.push({ scope, id, reason });
  };

  for (const fn of [stack.sendFunction, stack.pullFunction]) {
    add(
      fn,
      BASIC_EXECUTION,
      'Grants only logs:CreateLogGroup, CreateLogStream and PutLogEvents, which every Lambda ' +
        'function needs for its own logs; it is the policy AWS documents for that purpose.',
    );
    add(
      fn,
      VPC_ACCESS,
      'Required for a function in a VPC (the transfer point is reached through the NAT ' +
        'gateway): it creates and deletes the function network interfaces, EC2 actions that ' +
        'accept no resource-level restriction; AWS keeps it in step with Lambda networking.',
    );
    add(
      fn,
      `AwsSolutions-IAM5[Resource::${table}/index/*]`,
      'From Table.grantReadWriteData: the ledger queries its own secondary index (gsi1, for ' +
        'list and listResponses); the wildcard covers only the indexes of that one table.',
    );
    add(
      fn,
      'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      'From Topic.grantPublish on the KMS-encrypted topic: publishing needs a data key of ' +
        'that one key (the statement names the key ARN), GenerateDataKey and its variants.',
    );
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*']) {
      add(
        fn,
        `AwsSolutions-IAM5[Action::${action}]`,
        `From Bucket.grantRead: the read-only ${action} action family (object, version, ` +
          'attributes and checksum reads), on this one bucket and the key prefix the ' +
          'function works in.',
      );
    }
  }
  add(
    stack.sendFunction,
    `AwsSolutions-IAM5[Resource::${bucket}/${outbox}*]`,
    'The send function reads whichever declaration lands under the outbox prefix: object ' +
      'keys are only known at run time, so the grant is the prefix.',
  );
  add(
    stack.pullFunction,
    `AwsSolutions-IAM5[Resource::${bucket}/${responses}*]`,
    'The pull function writes (and reads back to verify) the answers it pulls under the ' +
      'responses prefix: object keys are only known at run time, so the grant is the prefix.',
  );
  add(
    stack.pullFunction,
    'AwsSolutions-IAM5[Action::s3:Abort*]',
    'From Bucket.grantPut: s3:AbortMultipartUpload lets the pull function abandon its own ' +
      'failed multipart upload of a large answer, under the responses prefix only.',
  );

  // CDK's own handler behind Bucket.addEventNotification: runs at deploy time only.
  const notificationsHandler = stack.node.children.find((child) =>
    child.node.id.startsWith('BucketNotificationsHandler'),
  );
  if (notificationsHandler !== undefined) {
    add(
      notificationsHandler,
      BASIC_EXECUTION,
      "The aws-cdk-lib handler that writes the bucket's event notification configuration " +
        'at deploy time; the managed policy only lets it write its own logs.',
    );
  }

  const secrets = stack.channels.flatMap((channel) => [
    channel.signingSecret,
    channel.serverSecret,
  ]);
  for (const secret of secrets) {
    // Imported secrets have no resource in this stack, hence nothing to acknowledge.
    if (secret.node.defaultChild === undefined) continue;
    add(
      secret,
      'AwsSolutions-SMG4',
      'Not rotatable by a Lambda: the signing certificate is issued by a certification ' +
        'authority and the credentials by the transfer point. Both are replaced with ' +
        'onss-transfer import-key when reissued; the CertificateExpiring alarm warns 30 days ' +
        'ahead, and the ServerCredentialTooOld alarm when the credentials pass their age.',
    );
  }
  return list;
}

/** Records every acknowledgement of nagAcknowledgements on its construct. */
export function suppressFindings(stack: OnssTransferStack): void {
  for (const { scope, id, reason } of nagAcknowledgements(stack)) {
    Validations.of(scope).acknowledge({ id, reason });
  }
}
