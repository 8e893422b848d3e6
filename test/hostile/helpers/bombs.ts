/**
 * Builders of hostile XML shared by the corpus: entity-expansion bombs, external entities and
 * nesting bombs, for declarations and responses alike. Each holds a complete, valid `Form`
 * (`form`, its inner markup): a reader that let the bomb through would take the document for a
 * good one, so a test can tell a refusal from a lenient read.
 */

const DECLARATION_FORM = '<Identification>DMFA</Identification>';

/** The classic entity-expansion bomb: 10 levels of 10 references, a billion `lol`s. */
export function billionLaughs(root: string, form = DECLARATION_FORM): string {
  const entities = Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`,
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!DOCTYPE ${root} [<!ENTITY lol0 "lol">${entities.join('')}]>`,
    `<${root}><Form>${form}</Form><x>&lol9;</x></${root}>`,
  ].join('\n');
}

/** An external entity pointing at a local file (XXE). */
export function externalEntity(root: string, form = DECLARATION_FORM): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>`,
    `<${root}><Form>${form}</Form><x>&xxe;</x></${root}>`,
  ].join('\n');
}

/** `depth` nested elements inside `root`, after a complete Form, as bytes. */
export function nestingBomb(root: string, depth: number, form = DECLARATION_FORM): Buffer {
  return Buffer.concat([
    Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><${root}><Form>${form}</Form>`),
    Buffer.alloc(depth * 3, '<a>'),
    Buffer.alloc(depth * 4, '</a>'),
    Buffer.from(`</${root}>`),
  ]);
}
