/**
 * Worker thread entry of {@link FileInspection}: reads a local declaration
 * file on its own (the upload reads it too), hashes it and checks its
 * content, then posts one {@link InspectionMessage}. Blocking reads into one
 * reused buffer are the fastest way to read a file here (PERF-NOTES).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { DeclarationContentChecker } from './declaration-content';
import { ContentRuleError } from './errors';
import type { InspectionMessage, InspectionRequest } from './file-inspection';

const CHUNK_BYTES = 1024 * 1024;

function inspect(request: InspectionRequest): InspectionMessage {
  const checker = new DeclarationContentChecker(request.app);
  const hash = request.sha256 ? createHash('sha256') : undefined;
  const fd = openSync(request.path, 'r');
  let offset = 0;
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    while (offset < request.size) {
      const n = readSync(fd, buffer, 0, Math.min(CHUNK_BYTES, request.size - offset), offset);
      if (n === 0) return { type: 'short', bytes: offset };
      const chunk = buffer.subarray(0, n);
      hash?.update(chunk);
      checker.write(chunk);
      offset += n;
    }
  } finally {
    closeSync(fd);
  }
  checker.end();
  return { type: 'done', ...(hash ? { sha256: hash.digest('hex') } : {}) };
}

function run(): InspectionMessage {
  try {
    return inspect((workerData as { data: InspectionRequest }).data);
  } catch (error) {
    if (error instanceof ContentRuleError) {
      return { type: 'refused', message: error.message, code: error.code, offset: error.offset };
    }
    return { type: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

parentPort?.postMessage(run());
