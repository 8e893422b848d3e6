import { runDemo } from '../../cli/demo';
import { captureIo } from '../helpers/cli';

describe('npm start (the demo)', () => {
  it('sends a sample declaration to the local transfer point and prints "accepted" and the ticket', async () => {
    const { io, stdout, stderr } = captureIo();
    const outcome = await runDemo(io);
    expect(outcome).toMatchObject({ accepted: true, errors: [] });
    expect(stdout()).toContain(`accepted, ticket ${outcome.ticket}`);
    expect(stdout()).toMatch(/launched GO\.DMFA\.123456\.\d{8}\.00001\.T\.1/);
    expect(stderr()).toBe('');
  });
});
