/**
 * Fixed facts of the local transfer point: its home layout, the identifiers its answers carry
 * and the defaults of its options. Shared by the server, the judge and the response writer.
 */
import { ENVIRONMENTS } from '../shared/names';
import type { Environment, ResponseFolder, UploadFolder } from '../shared/names';

/** A folder of the technical user's home, upload or response. */
export type HomeFolder = UploadFolder | ResponseFolder;

/** The home layout created on start: each environment's upload folder, then its answers. */
export const HOME_FOLDERS = [
  'IN',
  'INTEST',
  'INTEST-S',
  'OUT',
  'OUTTEST',
  'OUTTEST-S',
] as const satisfies readonly HomeFolder[];

/** Upload folder to environment: the folder a GO lands in decides where its answer goes. */
export const ENVIRONMENT_OF_UPLOAD_FOLDER: Readonly<Record<UploadFolder, Environment>> = {
  [ENVIRONMENTS.R.uploadFolder]: 'R',
  [ENVIRONMENTS.T.uploadFolder]: 'T',
  [ENVIRONMENTS.S.uploadFolder]: 'S',
};

/** Identifiers written in the answers, as in the published samples. */
export const RESPONSE_FORMS = {
  ACRF: { root: 'ACRF', identification: 'ACRF001', schema: 'ACRF_20231.xsd' },
  NOTI: { root: 'NOTIFICATION', identification: 'NOTI001', schema: 'NOTIFICATION_20224.xsd' },
} as const;

/** Response types the simulator writes. */
export type SimulatorResponseType = keyof typeof RESPONSE_FORMS;

/**
 * Static defaults of `SimulatorOptions`; the dynamic ones (root, password, identity) are made
 * on start.
 */
export const SIMULATOR_DEFAULTS = {
  /** Loopback only: the simulator is a local test double, never a service. */
  host: '127.0.0.1',
  /** 0 = a free port chosen by the system. */
  port: 0,
  user: 'onss',
  /** 0 to 0 = each passive data port is a free port chosen by the system. */
  passivePorts: { min: 0, max: 0 },
  signatureRequiredFor: { T: false, S: false },
  /** The transfer point's own sender number in the names of its answers. */
  transferPointSender: '999999',
  /** Common name of the self-signed certificate the answers are signed with. */
  identityCommonName: 'local transfer point',
  /** How long `waitForJudgement` waits when not told. */
  waitTimeoutMs: 10_000,
} as const;

/** Largest FS file read; anything bigger is refused (125) unread. The signing module's bound. */
export { MAX_FS_BYTES } from '../shared/signing';
