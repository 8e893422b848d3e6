import { runDemo } from '../../cli/demo';
import { captureIo } from '../helpers/cli';

describe('npm start (the demo)', () => {
  it('sends, pulls and shows an accepted declaration with its ticket and a rejected one in words', async () => {
    const { io, stdout, stderr } = captureIo();
    const outcome = await runDemo(io);
    expect(outcome).toMatchObject({ accepted: true, rejectedWith: ['ACRF-108'] });
    expect(stdout()).toContain(`accepted, ticket ${outcome.ticket}`);
    expect(stdout()).toMatch(/launched GO\.DMFA\.123456\.\d{8}\.00001\.T\.1/);
    expect(stdout()).toMatch(/ACRF-108 \w+/); // the reason, in words, from status
    expect(stderr()).toBe('');
  });
});
