/**
 * What cdk-nag found in a synthesized assembly: cdk-nag 3 reports through CDK policy
 * validation, into `validation-report.json` in the assembly's folder.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The AwsSolutions findings of the report in `assemblyDir`; empty when the stack is clean. */
export function awsSolutionsFindings(assemblyDir: string): unknown[] {
  const report = JSON.parse(readFileSync(join(assemblyDir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { pluginName: string; violations: unknown[] }[];
  };
  return report.pluginReports
    .filter((plugin) => plugin.pluginName === 'AwsSolutions')
    .flatMap((plugin) => plugin.violations);
}
