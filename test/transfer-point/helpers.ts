/**
 * Test helpers for the local transfer point: an FTP client (basic-ftp, the client the product
 * uses), declaration sets named by the rules, and a small XML reader on saxes so that answers
 * are read as XML rather than matched as text.
 */
import { Readable } from 'node:stream';
import { Client } from 'basic-ftp';
import { SaxesParser } from 'saxes';
import { buildDeclarationName, todayInBrussels } from '../../shared/names';
import type { Environment } from '../../shared/names';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../transfer-point';

/**
 * Opens a logged-in FTP session on the simulator (passive mode, as the product does); over
 * explicit FTPS, its certificate pinned, when the simulator speaks FTPS.
 */
export async function connect(
  sim: Simulator,
  login: { user?: string; password?: string } = {},
): Promise<Client> {
  const client = new Client(10_000);
  try {
    await client.access({
      host: sim.host,
      port: sim.port,
      user: login.user ?? sim.user,
      password: login.password ?? sim.password,
      ...(sim.caPem === undefined
        ? {}
        : { secure: true, secureOptions: { ca: sim.caPem, host: sim.host } }),
    });
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

/** Uploads bytes as `remotePath` (relative to the home folder). */
export async function upload(
  client: Client,
  remotePath: string,
  content: string | Buffer,
): Promise<void> {
  await client.uploadFrom(Readable.from([Buffer.from(content)]), remotePath);
}

/** Uploads files in order into `folder`, as a sender does (FI and FS first, GO last). */
export async function uploadAll(
  client: Client,
  folder: string,
  files: ReadonlyArray<readonly [name: string, content: string | Buffer]>,
): Promise<void> {
  for (const [name, content] of files) await upload(client, `/${folder}/${name}`, content);
}

/** The file names of one declaration set. */
export interface SetNames {
  fi(part: number): string;
  fs(part: number): string;
  go: string;
  td: string;
}

/** Names of a set of the sender 123456 dated today (Brussels), DMFA unless told. */
export function setNames(args: {
  seq: string;
  env: Environment;
  nparts?: number;
  app?: string;
  sender?: string;
  date?: string;
}): SetNames {
  const key = {
    app: args.app ?? 'DMFA',
    sender: args.sender ?? '123456',
    date: args.date ?? todayInBrussels(),
    seq: args.seq,
    env: args.env,
    nparts: args.nparts ?? 1,
  };
  return {
    fi: (part) => buildDeclarationName({ prefix: 'FI', ...key, part }),
    fs: (part) => buildDeclarationName({ prefix: 'FS', ...key, part }),
    go: buildDeclarationName({ prefix: 'GO', ...key }),
    td: buildDeclarationName({ prefix: 'TD', ...key }),
  };
}

/** Hands out sequences 00001, 00002... so that tests sharing a simulator never collide. */
export function sequences(): () => string {
  let last = 0;
  return () => String(++last).padStart(5, '0');
}

/** A small well-formed declaration whose form identification is `form` (DMFA by default). */
export function declarationXml(form = 'DMFA', workers = 3): string {
  const people = Array.from(
    { length: workers },
    (_, index) => `    <NaturalPerson><INSS>8501010012${index}</INSS></NaturalPerson>`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<DmfAOriginal>',
    '  <Form>',
    `    <Identification>${form}</Identification>`,
    '    <FormCreationDate>2026-01-05</FormCreationDate>',
    ...people,
    '  </Form>',
    '</DmfAOriginal>',
    '',
  ].join('\n');
}

/**
 * Reads an XML document with saxes (throwing when it is not well-formed) and returns the
 * root name and the text of every element by its path, e.g. `ACRF/Form/Identification`.
 */
export function readXml(xml: string): { root: string; values: Map<string, string[]> } {
  const parser = new SaxesParser();
  const path: string[] = [];
  const values = new Map<string, string[]>();
  let text = '';
  let root = '';
  parser.on('error', (error) => {
    throw error;
  });
  parser.on('opentag', (tag) => {
    if (path.length === 0) root = tag.name;
    path.push(tag.name);
    text = '';
  });
  parser.on('text', (chunk) => {
    text += chunk;
  });
  parser.on('closetag', () => {
    const key = path.join('/');
    values.set(key, [...(values.get(key) ?? []), text.trim()]);
    text = '';
    path.pop();
  });
  parser.write(xml).close();
  return { root, values };
}

/** Polls `check` until it returns true, failing after `timeoutMs`. */
export async function eventually(
  check: () => boolean,
  timeoutMs = 3_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts a local transfer point with `options`, runs `body` with a logged-in session, and
 * stops both, whatever `body` did.
 */
export async function withSession(
  options: Partial<SimulatorOptions>,
  body: (sim: Simulator, client: Client) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator(options);
  const client = await connect(sim);
  try {
    await body(sim, client);
  } finally {
    client.close();
    await sim.stop();
  }
}
