import { FTPError } from 'basic-ftp';
import { OnssTransferError } from '../../shared/errors';
import {
  classifyFtpError,
  isTransientTransportError,
  serverIdentityChange,
  TransportAuthError,
  TransportConnectError,
  TransportError,
  TransportHostKeyError,
  TransportNotFoundError,
  TransportRefusedError,
  TransportServerCertificateError,
  TransportServerIdentityError,
  TransportTimeoutError,
  TransportTlsError,
} from '../../shared/transport';

function reply(code: number, text: string): FTPError {
  return new FTPError({ code, message: `${code} ${text}` });
}

function socketError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

const CONTEXT = 'put INTEST/FI.DMFA.123456.20261125.00001.T.1.1 to ftp://T123@host:21';

describe('classifyFtpError', () => {
  const cases: Array<{
    title: string;
    input: unknown;
    expected: { name: string; code: string; transient: boolean; ftpCode?: number };
  }> = [
    {
      title: '530 login incorrect',
      input: reply(530, 'Login incorrect.'),
      expected: {
        name: 'TransportAuthError',
        code: 'TRANSPORT_AUTH',
        transient: false,
        ftpCode: 530,
      },
    },
    {
      title: '430 invalid user name or password',
      input: reply(430, 'Invalid username or password'),
      expected: {
        name: 'TransportAuthError',
        code: 'TRANSPORT_AUTH',
        transient: false,
        ftpCode: 430,
      },
    },
    {
      title: '332 account needed',
      input: reply(332, 'Need account for login.'),
      expected: {
        name: 'TransportAuthError',
        code: 'TRANSPORT_AUTH',
        transient: false,
        ftpCode: 332,
      },
    },
    {
      title: '421 service not available',
      input: reply(421, 'Timeout.'),
      expected: {
        name: 'TransportRefusedError',
        code: 'TRANSPORT_REFUSED',
        transient: true,
        ftpCode: 421,
      },
    },
    {
      title: '450 file busy',
      input: reply(450, 'File unavailable'),
      expected: {
        name: 'TransportRefusedError',
        code: 'TRANSPORT_REFUSED',
        transient: true,
        ftpCode: 450,
      },
    },
    {
      title: '452 insufficient storage',
      input: reply(452, 'Insufficient storage space'),
      expected: {
        name: 'TransportRefusedError',
        code: 'TRANSPORT_REFUSED',
        transient: true,
        ftpCode: 452,
      },
    },
    {
      title: '550 permission denied',
      input: reply(550, 'Permission denied.'),
      expected: {
        name: 'TransportRefusedError',
        code: 'TRANSPORT_REFUSED',
        transient: false,
        ftpCode: 550,
      },
    },
    {
      title: '553 file name not allowed',
      input: reply(553, 'Could not create file.'),
      expected: {
        name: 'TransportRefusedError',
        code: 'TRANSPORT_REFUSED',
        transient: false,
        ftpCode: 553,
      },
    },
    {
      title: '120 service ready later',
      input: reply(120, 'Service ready in 5 minutes'),
      expected: {
        name: 'TransportRefusedError',
        code: 'TRANSPORT_REFUSED',
        transient: true,
        ftpCode: 120,
      },
    },
    {
      title: 'ECONNREFUSED',
      input: socketError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:21 (control socket)'),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'ECONNRESET on the data socket',
      input: socketError('ECONNRESET', 'read ECONNRESET (data socket)'),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'EPIPE',
      input: socketError('EPIPE', 'write EPIPE (data socket)'),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'host name not found',
      input: socketError('ENOTFOUND', 'getaddrinfo ENOTFOUND ftp.example.invalid'),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'basic-ftp FTPError wrapping a socket error (text code, another realm)',
      input: Object.assign(reply(0, 'x'), {
        code: 'ECONNREFUSED',
        message: 'connect ECONNREFUSED',
      }),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'Client is closed (an earlier failure)',
      input: socketError('ECONNRESET', 'Client is closed because read ECONNRESET (control socket)'),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'Client is closed without a code',
      input: socketError(
        '0',
        'Client is closed because Server sent FIN packet unexpectedly, closing connection.',
      ),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'server FIN',
      input: new Error('Server sent FIN packet unexpectedly, closing connection.'),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'an EPSV reply cut mid-line (the connection broke)',
      input: new Error("Can't parse response to 'EPSV': 229 Entering Extended Passive M"),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'a PASV reply cut mid-line',
      input: new Error("Can't parse PASV response: 227 Entering Passive Mode (127,0,"),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'passive-mode discovery given up because the connection was reset',
      input: new Error(
        "None of the available transfer strategies work. Last error response was 'Error: Client is closed because read ECONNRESET (control socket)'.",
      ),
      expected: { name: 'TransportConnectError', code: 'TRANSPORT_CONNECT', transient: true },
    },
    {
      title: 'passive-mode discovery given up because the server refused both modes',
      input: new Error(
        "None of the available transfer strategies work. Last error response was 'FTPError: 500 PASV not understood'.",
      ),
      expected: { name: 'TransportError', code: 'TRANSPORT_FAILED', transient: false },
    },
    {
      title: 'ETIMEDOUT',
      input: socketError('ETIMEDOUT', 'connect ETIMEDOUT 10.0.0.1:21'),
      expected: { name: 'TransportTimeoutError', code: 'TRANSPORT_TIMEOUT', transient: true },
    },
    {
      title: 'basic-ftp control timeout',
      input: new Error('Timeout (control socket)'),
      expected: { name: 'TransportTimeoutError', code: 'TRANSPORT_TIMEOUT', transient: true },
    },
    {
      title: 'basic-ftp passive connection timeout',
      input: new Error('Timeout when trying to open data connection to 127.0.0.1:40000'),
      expected: { name: 'TransportTimeoutError', code: 'TRANSPORT_TIMEOUT', transient: true },
    },
    {
      title: 'client closed because of a timeout',
      input: socketError('0', 'Client is closed because Timeout (data socket)'),
      expected: { name: 'TransportTimeoutError', code: 'TRANSPORT_TIMEOUT', transient: true },
    },
    {
      title: 'an unknown error',
      input: new TypeError('something unexpected'),
      expected: { name: 'TransportError', code: 'TRANSPORT_FAILED', transient: false },
    },
    {
      title: 'a thrown string',
      input: 'weird',
      expected: { name: 'TransportError', code: 'TRANSPORT_FAILED', transient: false },
    },
  ];

  it.each(cases)('$title', ({ input, expected }) => {
    const error = classifyFtpError(input, CONTEXT);

    expect(error).toBeInstanceOf(TransportError);
    expect(error).toBeInstanceOf(OnssTransferError);
    expect(error.name).toBe(expected.name);
    expect(error.code).toBe(expected.code);
    expect(error.transient).toBe(expected.transient);
    expect(error.ftpCode).toBe(expected.ftpCode);
    expect(error.cause).toBe(input);
    expect(error.message.startsWith(`${CONTEXT}: `)).toBe(true);
    expect(isTransientTransportError(error)).toBe(expected.transient);
  });

  it('passes a TransportError through unchanged', () => {
    const original = new TransportNotFoundError('get OUT/x: no such file', { ftpCode: 550 });
    expect(classifyFtpError(original, CONTEXT)).toBe(original);
  });
});

describe('classifyFtpError, TLS failures', () => {
  /** An OpenSSL failure as Node reports it: a whole error-queue line, a code and a reason. */
  function sslError(code: string, reason: string): Error {
    return Object.assign(
      new Error(`80BC2AE8667F0000:error:0A00041A:SSL routines:ssl3_read_bytes:${reason}`),
      { code, reason, library: 'SSL routines' },
    );
  }

  const cases: Array<{ title: string; input: unknown; problem: string; message: RegExp }> = [
    {
      title: 'a self-signed certificate',
      input: socketError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'),
      problem: 'untrusted-certificate',
      message: /certificate is not trusted; give the CA .*--ca-file.*\(self-signed certificate\)$/,
    },
    {
      title: 'an unknown issuer',
      input: socketError(
        'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
        'unable to get local issuer certificate',
      ),
      problem: 'untrusted-certificate',
      message: /not trusted.*unable to get local issuer/,
    },
    {
      title: 'a host name mismatch',
      input: socketError(
        'ERR_TLS_CERT_ALTNAME_INVALID',
        "Hostname/IP does not match certificate's altnames: Host: ftp.example is not in the cert's altnames: DNS:other",
      ),
      problem: 'hostname-mismatch',
      message: /certificate is for another host name/,
    },
    {
      title: 'an expired certificate',
      input: socketError('CERT_HAS_EXPIRED', 'certificate has expired'),
      problem: 'certificate-dates',
      message: /expired or is not valid yet/,
    },
    {
      title: 'an OpenSSL protocol failure',
      input: sslError('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'),
      problem: 'handshake',
      message: /the TLS handshake failed \(wrong version number, ERR_SSL_WRONG_VERSION_NUMBER\)$/,
    },
  ];

  it.each(cases)('$title: TRANSPORT_TLS, permanent, says what is wrong', (row) => {
    const error = classifyFtpError(row.input, CONTEXT);

    expect(error).toBeInstanceOf(TransportTlsError);
    expect(error).toMatchObject({ code: 'TRANSPORT_TLS', transient: false, problem: row.problem });
    expect(error.message.startsWith(`${CONTEXT}: `)).toBe(true);
    expect(error.message).toMatch(row.message);
    expect(error.cause).toBe(row.input);
  });

  it('an OpenSSL failure on a session that was working is a cut connection: transient', () => {
    const input = sslError('ERR_SSL_TLSV1_ALERT_DECODE_ERROR', 'tlsv1 alert decode error');

    const error = classifyFtpError(input, CONTEXT, { established: true });

    expect(error).toBeInstanceOf(TransportConnectError);
    expect(error).toMatchObject({ code: 'TRANSPORT_CONNECT', transient: true });
    expect(error.message).toBe(
      `${CONTEXT}: the TLS connection broke (tlsv1 alert decode error, ERR_SSL_TLSV1_ALERT_DECODE_ERROR)`,
    );
  });

  it('a certificate failure stays permanent on an established session too', () => {
    const input = socketError('CERT_HAS_EXPIRED', 'certificate has expired');
    expect(classifyFtpError(input, CONTEXT, { established: true })).toMatchObject({
      code: 'TRANSPORT_TLS',
      transient: false,
    });
  });
});

describe('transport error classes', () => {
  const cases: Array<{ title: string; error: TransportError; code: string; transient: boolean }> = [
    {
      title: 'auth',
      error: new TransportAuthError('m', { ftpCode: 530 }),
      code: 'TRANSPORT_AUTH',
      transient: false,
    },
    {
      title: 'connect',
      error: new TransportConnectError('m'),
      code: 'TRANSPORT_CONNECT',
      transient: true,
    },
    {
      title: 'timeout',
      error: new TransportTimeoutError('m'),
      code: 'TRANSPORT_TIMEOUT',
      transient: true,
    },
    {
      title: 'refused 4xx',
      error: new TransportRefusedError('m', 451),
      code: 'TRANSPORT_REFUSED',
      transient: true,
    },
    {
      title: 'refused 5xx',
      error: new TransportRefusedError('m', 552),
      code: 'TRANSPORT_REFUSED',
      transient: false,
    },
    {
      title: 'not found',
      error: new TransportNotFoundError('m'),
      code: 'TRANSPORT_NOT_FOUND',
      transient: false,
    },
    {
      title: 'tls',
      error: new TransportTlsError('m', 'no-auth-tls', { ftpCode: 530 }),
      code: 'TRANSPORT_TLS',
      transient: false,
    },
    {
      title: 'host key',
      error: new TransportHostKeyError('m', { actual: 'SHA256:a', expected: 'SHA256:b' }),
      code: 'TRANSPORT_HOST_KEY',
      transient: false,
    },
    {
      title: 'server certificate',
      error: new TransportServerCertificateError('m', { actual: 'AA:01', expected: 'BB:02' }),
      code: 'TRANSPORT_SERVER_CERT',
      transient: false,
    },
  ];
  it.each(cases)('$title has its code and transience', ({ error, code, transient }) => {
    expect(error.code).toBe(code);
    expect(error.transient).toBe(transient);
    expect(error.acrf).toBeUndefined();
  });

  it('is not transient when it is not a TransportError', () => {
    expect(isTransientTransportError(new Error('x'))).toBe(false);
    expect(isTransientTransportError(undefined)).toBe(false);
  });
});

describe('serverIdentityChange', () => {
  const ACTUAL_CERT = `${'AA:'.repeat(31)}AA`;
  const PINNED_CERT = `${'BB:'.repeat(31)}BB`;

  it('reads a pinned host key that changed', () => {
    const error = new TransportHostKeyError('m', { actual: 'SHA256:new', expected: 'SHA256:old' });
    expect(error).toBeInstanceOf(TransportServerIdentityError);
    expect(serverIdentityChange(error)).toEqual({
      kind: 'host-key',
      expected: 'SHA256:old',
      actual: 'SHA256:new',
    });
  });

  it('reads a pinned TLS certificate that changed', () => {
    const error = new TransportServerCertificateError('m', {
      actual: ACTUAL_CERT,
      expected: PINNED_CERT,
    });
    expect(error).toBeInstanceOf(TransportServerIdentityError);
    expect(error).toBeInstanceOf(TransportError);
    expect(serverIdentityChange(error)).toEqual({
      kind: 'tls-certificate',
      expected: PINNED_CERT,
      actual: ACTUAL_CERT,
    });
  });

  it.each([
    {
      title: 'a host key refused with no pin (nothing to compare)',
      error: new TransportHostKeyError('m', { actual: 'SHA256:new' }),
    },
    { title: 'a TLS failure', error: new TransportTlsError('m', 'untrusted-certificate') },
    { title: 'another error', error: new Error('m') },
    { title: 'no error', error: undefined },
  ])('is undefined for $title', ({ error }) => {
    expect(serverIdentityChange(error)).toBeUndefined();
  });
});
