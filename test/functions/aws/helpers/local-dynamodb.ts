/**
 * A local DynamoDB for behaviour tests: dynalite (in memory) on loopback, behind a small front
 * on loopback that adds the one operation dynalite 4 lacks, TransactWriteItems.
 *
 * The front handles one request at a time. Every other operation goes to dynalite unchanged, so
 * conditions, the ADD counter, queries and the index are dynalite's own. A transaction is
 * carried out as DynamoDB documents it, all or nothing: each item's earlier image is read, the
 * operations are applied in order as conditional single-item writes, and when one is refused
 * the ones before it are undone and TransactionCanceledException comes back with a reason per
 * item. Since nothing else runs meanwhile, no client ever sees half a transaction.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running local DynamoDB. */
export interface LocalDynamoDb {
  /** The endpoint to give a DynamoDBClient: `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** How many TransactWriteItems requests the front carried out (committed or cancelled). */
  transactions(): number;
  /** Stops the front and dynalite. */
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type AttributeMap = Record<string, unknown>;

interface Reply {
  status: number;
  body: Json;
}

interface DynaliteFactory {
  (options: Json): Server;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
const ERROR_PREFIX = 'com.amazonaws.dynamodb.v20120810#';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function readBody(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on('data', (chunk: Buffer) => chunks.push(chunk));
    message.on('end', () => resolve(Buffer.concat(chunks)));
    message.on('error', reject);
  });
}

/** Starts dynalite and its front, each on 127.0.0.1 with a port the system picks. */
export async function startLocalDynamoDb(): Promise<LocalDynamoDb> {
  // dynalite ships no type declarations usable here; its factory returns an http.Server.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynalite = require('dynalite') as DynaliteFactory;
  const backend = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const backendPort = await listen(backend);
  const keySchemas = new Map<string, string[]>();
  let transactions = 0;

  // Sends one request to dynalite, with the signing headers of the request it serves (dynalite
  // checks they are there, not what they sign).
  const forward = (headers: IncomingHttpHeaders, body: Buffer): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const outgoing = httpRequest(
        {
          host: '127.0.0.1',
          port: backendPort,
          method: 'POST',
          path: '/',
          headers: {
            'content-type': headers['content-type'] ?? 'application/x-amz-json-1.0',
            'x-amz-target': headers['x-amz-target'] ?? '',
            authorization: headers.authorization ?? '',
            'x-amz-date': headers['x-amz-date'] ?? '',
            'content-length': body.length,
          },
        },
        (incoming) => {
          readBody(incoming).then(
            (data) =>
              resolve({
                status: incoming.statusCode ?? 500,
                body: data.length > 0 ? (JSON.parse(data.toString('utf8')) as Json) : {},
              }),
            reject,
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const call = (headers: IncomingHttpHeaders, operation: string, input: Json): Promise<Reply> =>
    forward(
      { ...headers, 'x-amz-target': `${TARGET_PREFIX}${operation}` },
      Buffer.from(JSON.stringify(input)),
    );

  const keyNames = async (headers: IncomingHttpHeaders, table: string): Promise<string[]> => {
    const known = keySchemas.get(table);
    if (known) return known;
    const described = await call(headers, 'DescribeTable', { TableName: table });
    const schema = (described.body.Table as { KeySchema?: { AttributeName: string }[] })?.KeySchema;
    const names = (schema ?? []).map((key) => key.AttributeName);
    keySchemas.set(table, names);
    return names;
  };

  const errorReply = (type: string, message: string, extra: Json = {}): Reply => ({
    status: 400,
    body: { __type: `${ERROR_PREFIX}${type}`, message, ...extra },
  });

  const transactWrite = async (headers: IncomingHttpHeaders, input: Json): Promise<Reply> => {
    transactions += 1;
    const entries = (input.TransactItems as Json[] | undefined) ?? [];
    if (entries.length === 0 || entries.length > 100) {
      return errorReply('ValidationException', 'TransactItems must hold 1 to 100 items');
    }
    // Each entry: its kind, its parameters, the item key and its image before.
    const planned: { kind: string; params: Json; table: string; key: AttributeMap }[] = [];
    const seen = new Set<string>();
    for (const entry of entries) {
      const [kind, params] = Object.entries(entry)[0] as [string, Json];
      const table = String(params.TableName);
      const names = await keyNames(headers, table);
      const source = (kind === 'Put' ? params.Item : params.Key) as AttributeMap;
      const key = Object.fromEntries(names.map((name) => [name, source[name]]));
      const id = JSON.stringify([table, key]);
      if (seen.has(id)) {
        return errorReply(
          'ValidationException',
          'Transaction request cannot include multiple operations on one item',
        );
      }
      seen.add(id);
      planned.push({ kind, params, table, key });
    }
    const before: (AttributeMap | undefined)[] = [];
    for (const step of planned) {
      const got = await call(headers, 'GetItem', {
        TableName: step.table,
        Key: step.key,
        ConsistentRead: true,
      });
      before.push(got.body.Item as AttributeMap | undefined);
    }
    const undo = async (count: number): Promise<void> => {
      for (let i = count - 1; i >= 0; i -= 1) {
        const step = planned[i]!;
        const image = before[i];
        if (image) await call(headers, 'PutItem', { TableName: step.table, Item: image });
        else await call(headers, 'DeleteItem', { TableName: step.table, Key: step.key });
      }
    };
    for (const [i, step] of planned.entries()) {
      const condition = {
        ConditionExpression: step.params.ConditionExpression,
        ExpressionAttributeNames: step.params.ExpressionAttributeNames,
        ExpressionAttributeValues: step.params.ExpressionAttributeValues,
      };
      let reply: Reply;
      if (step.kind === 'Put') {
        reply = await call(headers, 'PutItem', { ...step.params });
      } else if (step.kind === 'Update') {
        reply = await call(headers, 'UpdateItem', { ...step.params });
      } else if (step.kind === 'Delete') {
        reply = await call(headers, 'DeleteItem', { ...step.params });
      } else if (step.kind === 'ConditionCheck') {
        // Checked by rewriting the item as it is (or deleting the absent one) under the
        // condition: nothing changes, and dynalite evaluates the condition itself.
        const image = before[i];
        reply = image
          ? await call(headers, 'PutItem', { TableName: step.table, Item: image, ...condition })
          : await call(headers, 'DeleteItem', {
              TableName: step.table,
              Key: step.key,
              ...condition,
            });
      } else {
        await undo(i);
        return errorReply('ValidationException', `unknown transaction operation ${step.kind}`);
      }
      if (reply.status !== 200) {
        await undo(i);
        const type = String(reply.body.__type ?? '');
        if (!type.endsWith('ConditionalCheckFailedException')) return reply;
        const reasons = planned.map((_, j) =>
          j === i
            ? { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed' }
            : { Code: 'None' },
        );
        return errorReply(
          'TransactionCanceledException',
          'Transaction cancelled, please refer cancellation reasons for specific reasons ' +
            `[${reasons.map((reason) => reason.Code).join(', ')}]`,
          { CancellationReasons: reasons },
        );
      }
    }
    return { status: 200, body: {} };
  };

  const handle = async (incoming: IncomingMessage, body: Buffer): Promise<Reply> => {
    const target = String(incoming.headers['x-amz-target'] ?? '');
    if (target === `${TARGET_PREFIX}TransactWriteItems`) {
      return transactWrite(incoming.headers, JSON.parse(body.toString('utf8')) as Json);
    }
    return forward(incoming.headers, body);
  };

  // One request at a time: a transaction is never seen half done.
  let queue: Promise<unknown> = Promise.resolve();
  const front = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const turn = queue.then(async () => {
      const body = await readBody(incoming);
      let reply: Reply;
      try {
        reply = await handle(incoming, body);
      } catch (error) {
        reply = {
          status: 500,
          body: { __type: `${ERROR_PREFIX}InternalServerError`, message: String(error) },
        };
      }
      const data = Buffer.from(JSON.stringify(reply.body));
      outgoing.writeHead(reply.status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': data.length,
        'x-amzn-requestid': `local-${Date.now()}`,
      });
      outgoing.end(data);
    });
    queue = turn.catch(() => undefined);
  });
  const frontPort = await listen(front);

  return {
    endpoint: `http://127.0.0.1:${frontPort}`,
    transactions: () => transactions,
    close: async () => {
      await close(front);
      await close(backend);
    },
  };
}
