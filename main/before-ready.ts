// Side effects that Electron accepts only before `ready`. They live in a module that main.ts imports
// because Electron runs an ESM entry's imports, not its own body, before `ready` for certain.
import { app, protocol } from 'electron';
import { APP_SCHEME_PRIVILEGES } from './app-origin.js';

protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
// Sandbox every renderer, whatever its webPreferences say.
app.enableSandbox();
