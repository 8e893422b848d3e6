// Runs before every test file (jest setupFiles): see error-realms.ts for why.
import { bridgeErrorRealms } from './error-realms';

bridgeErrorRealms();
