import { runDemo } from '../../cli/demo';
import type { CliIo } from '../../cli/io';

describe('npm start (the demo)', () => {
  it('sends a sample declaration to the local transfer point and prints "accepted" and the ticket', async () => {
    let out = '';
    const io: CliIo = {
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        out += text;
      },
      env: {},
    };
    const outcome = await runDemo(io);
    expect(outcome).toMatchObject({ accepted: true, errors: [] });
    expect(out).toContain(`accepted, ticket ${outcome.ticket}`);
    expect(out).toMatch(/launched GO\.DMFA\.123456\.\d{8}\.00001\.T\.1/);
  });
});
