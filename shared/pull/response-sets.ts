import { checkResponseName, type Environment, type ResponseName } from '../names';
import type { RemoteEntry } from '../transport';

/** One file of a response set as listed on the server. */
export interface ListedResponseFile {
  name: string;
  size: number;
  parsed: ResponseName;
}

/** The files of one response set found in a response folder. */
export interface ResponseSetListing {
  /** Fields 2 to 6 of the names, plus NPARTS when present: `ACRF.999999.20261125.00001.T`. */
  id: string;
  type: string;
  env: Environment;
  /** Data files (FO, or CO when compressed), in part order. */
  data: ListedResponseFile[];
  /** FS signatures, in part order. */
  signatures: ListedResponseFile[];
  go: ListedResponseFile | undefined;
  /** GO present and every data part present: the set can be taken. */
  complete: boolean;
}

/** A listing cut into response sets, plus what is not a response file at all. */
export interface GroupedListing {
  sets: ResponseSetListing[];
  /** Files whose names are outside the grammar: never deleted, reported. */
  foreign: RemoteEntry[];
}

/** The set id of a response name: the fields that all files of its set share. */
export function responseSetId(name: ResponseName): string {
  const base = [name.type, name.sender, name.date, name.seq, name.env].join('.');
  return name.nparts === undefined ? base : `${base}.${name.nparts}`;
}

function byPart(a: ListedResponseFile, b: ListedResponseFile): number {
  return (a.parsed.part ?? 1) - (b.parsed.part ?? 1);
}

function isComplete(
  set: Omit<ResponseSetListing, 'complete'>,
  nparts: number | undefined,
): boolean {
  if (set.go === undefined) return false;
  if (nparts === undefined) return set.data.length === 1;
  const parts = new Set(set.data.map((file) => file.parsed.part ?? 1));
  return Array.from({ length: nparts }, (_, i) => i + 1).every((part) => parts.has(part));
}

/**
 * Groups the entries of a response folder into response sets by name (FO/CO
 * data, FS signatures, GO), in a stable order (by id). A set is complete
 * when its GO is there with every data part; folders and files whose names
 * are outside the grammar are returned apart, to be reported and left alone.
 */
export function groupResponseSets(entries: readonly RemoteEntry[]): GroupedListing {
  const sets = new Map<string, Omit<ResponseSetListing, 'complete'> & { nparts?: number }>();
  const foreign: RemoteEntry[] = [];
  for (const entry of entries) {
    if (entry.type !== 'file') {
      if (entry.type !== 'directory') foreign.push(entry);
      continue;
    }
    const checked = checkResponseName(entry.name);
    if (!checked.ok) {
      foreign.push(entry);
      continue;
    }
    const parsed = checked.value;
    const id = responseSetId(parsed);
    const set = sets.get(id) ?? {
      id,
      type: parsed.type,
      env: parsed.env,
      data: [],
      signatures: [],
      go: undefined,
      ...(parsed.nparts === undefined ? {} : { nparts: parsed.nparts }),
    };
    const file: ListedResponseFile = { name: entry.name, size: entry.size, parsed };
    if (parsed.prefix === 'GO') set.go = file;
    else if (parsed.prefix === 'FS') set.signatures.push(file);
    else set.data.push(file);
    sets.set(id, set);
  }
  const grouped = [...sets.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ nparts, ...set }) => ({
      ...set,
      data: [...set.data].sort(byPart),
      signatures: [...set.signatures].sort(byPart),
      complete: isComplete(set, nparts),
    }));
  return { sets: grouped, foreign };
}
