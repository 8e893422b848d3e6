import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliSurface, listedInHelp, type CliSurface } from './cli-surface';

/**
 * docs/cli.md documents every command and flag of `onss-transfer`, and nothing the CLI does
 * not have. The truth is the CLI's own help: commander's program, walked in-process as
 * `--help` shows it (and checked against the printed help).
 *
 * Conventions of docs/cli.md this relies on: each command has a `## ` section whose heading
 * names it in a code span (`` ## `onss-transfer send` ``), and a section named "Global
 * options" documents the program's own flags. `--help`, listed by every command, is
 * documented once, there.
 */

const DOC = 'docs/cli.md';
const root = join(__dirname, '..', '..');

/**
 * Flags of other programs that the page quotes, each with where. Nothing else that looks like
 * a flag may appear unless the CLI has it.
 */
const FOREIGN_FLAGS: Readonly<Record<string, string>> = {
  '--secret-string':
    'aws secretsmanager put-secret-value, the pipe import-key suggests (its help shows it too)',
};

/** A `## ` section of the page: its heading and its text (code blocks included). */
interface Section {
  heading: string;
  body: string;
}

/** Splits markdown into its `## ` sections (a `## ` line inside a code fence is not one). */
function sectionsOf(markdown: string): Section[] {
  const sections: Section[] = [{ heading: '', body: '' }];
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^(```|~~~)/.test(line)) fenced = !fenced;
    if (!fenced && line.startsWith('## ')) {
      sections.push({ heading: line.slice(3).trim(), body: '' });
    } else {
      const current = sections[sections.length - 1] as Section;
      current.body += `${line}\n`;
    }
  }
  return sections;
}

/** The command path a section heading names, if it names one: `` `onss-transfer x y` ``. */
function commandOfHeading(heading: string): string | undefined {
  return /^`onss-transfer ([a-z][a-z0-9 -]*)`$/.exec(heading)?.[1]?.trim();
}

/** Every `--flag` a text names (not `--` alone, not inside a longer word). */
function flagsIn(text: string): Set<string> {
  return new Set(text.match(/(?<![\w-])--[a-z][a-z0-9-]*/g) ?? []);
}

/** Every command path named as `onss-transfer <command>` (`send|pull` names both). */
function commandsNamedIn(text: string): Set<string> {
  const named = new Set<string>();
  for (const match of text.matchAll(
    /(?<![\w./-])onss-transfer ([a-z][a-z0-9-]*(?:\|[a-z][a-z0-9-]*)*)/g,
  )) {
    for (const name of (match[1] as string).split('|')) named.add(name);
  }
  return named;
}

/** Whether `text` names `flag` as a whole token. */
function mentions(text: string, flag: string): boolean {
  return flagsIn(text).has(flag);
}

/** What is wrong between the page and the CLI, as sentences; empty when they agree. */
function problems(markdown: string, surface: CliSurface): string[] {
  const found: string[] = [];
  const sections = sectionsOf(markdown);
  const byCommand = new Map<string, Section>();
  for (const section of sections) {
    const command = commandOfHeading(section.heading);
    if (command !== undefined) byCommand.set(command, section);
  }
  const commandNames = new Set(surface.commands.map((command) => command.path.join(' ')));
  const allFlags = new Set([
    ...surface.globalFlags,
    ...surface.commands.flatMap((command) => command.flags),
  ]);

  // The CLI -> the page.
  const global = sections.find((section) => /^global options$/i.test(section.heading));
  if (global === undefined) found.push(`${DOC} has no "## Global options" section`);
  for (const flag of surface.globalFlags) {
    if (global !== undefined && !mentions(global.body, flag)) {
      found.push(`the program's ${flag} is not in ${DOC}'s Global options`);
    }
  }
  for (const command of surface.commands) {
    const name = command.path.join(' ');
    const section = byCommand.get(name);
    if (section === undefined) {
      found.push(`onss-transfer ${name} has no section "## \`onss-transfer ${name}\`" in ${DOC}`);
      continue;
    }
    for (const flag of command.flags) {
      if (flag === '--help') continue;
      if (!mentions(section.body, flag)) {
        found.push(`${flag} of onss-transfer ${name} is not in its section of ${DOC}`);
      }
    }
  }

  // The page -> the CLI.
  for (const name of commandsNamedIn(markdown)) {
    if (!commandNames.has(name)) {
      found.push(`${DOC} names onss-transfer ${name}, which the CLI does not have`);
    }
  }
  for (const section of sections) {
    const heading = commandOfHeading(section.heading);
    if (heading !== undefined && !commandNames.has(heading)) {
      found.push(`${DOC} has a section for onss-transfer ${heading}, which the CLI does not have`);
    }
    const command = surface.commands.find((candidate) => candidate.path.join(' ') === heading);
    const allowed =
      command === undefined ? allFlags : new Set([...command.flags, ...surface.globalFlags]);
    for (const flag of flagsIn(section.body)) {
      if (allowed.has(flag) || flag in FOREIGN_FLAGS) continue;
      found.push(
        command === undefined
          ? `${DOC} (section "${section.heading}") names ${flag}, which no command has`
          : `${DOC} names ${flag} under onss-transfer ${heading}, which that command does not have`,
      );
    }
  }
  return found;
}

describe(`${DOC} follows the CLI's --help`, () => {
  let surface: CliSurface;
  let markdown: string;

  beforeAll(async () => {
    surface = await cliSurface();
    markdown = readFileSync(join(root, DOC), 'utf8');
  });

  it('walks the same commands and flags the printed help lists', () => {
    const listed = listedInHelp(surface.rootHelpText);
    expect(listed.commands).toEqual(
      surface.commands.filter((c) => c.path.length === 1).map((c) => c.path[0]),
    );
    expect(listed.flags).toEqual(surface.globalFlags);
    expect(surface.commands.map((c) => c.path.join(' '))).toEqual(
      expect.arrayContaining(['check-name', 'sign', 'verify', 'plan', 'send', 'pull', 'status']),
    );
    for (const command of surface.commands) {
      if (command.path.at(-1) === 'help') continue; // `help --help` prints the program's help
      expect({ command: command.path, flags: listedInHelp(command.helpText).flags }).toEqual({
        command: command.path,
        flags: command.flags,
      });
    }
  });

  it('documents every command and flag, and only those', () => {
    expect(problems(markdown, surface)).toEqual([]);
  });

  it('notices a flag taken out of the page, a command missing, and one made up', () => {
    const send = surface.commands.find((command) => command.path.join(' ') === 'send');
    expect(send?.flags).toContain('--resend');
    const withoutResend = sectionsOf(markdown)
      .map((section) => {
        const text =
          section.heading === '' ? section.body : `## ${section.heading}\n${section.body}`;
        return section.heading === '`onss-transfer send`'
          ? text.replace(/--resend\b/g, 'resend')
          : text;
      })
      .join('');
    expect(problems(withoutResend, surface)).toContain(
      `--resend of onss-transfer send is not in its section of ${DOC}`,
    );

    const withoutStatus = markdown.replace('## `onss-transfer status`', '## Status');
    expect(problems(withoutStatus, surface)).toContain(
      `onss-transfer status has no section "## \`onss-transfer status\`" in ${DOC}`,
    );

    const madeUp = `${markdown}\n## \`onss-transfer sign\`\n\nRun \`onss-transfer frobnicate --no-such-flag\`.\n`;
    expect(problems(madeUp, surface)).toEqual(
      expect.arrayContaining([
        `${DOC} names onss-transfer frobnicate, which the CLI does not have`,
        `${DOC} names --no-such-flag under onss-transfer sign, which that command does not have`,
      ]),
    );
  });
});
