#!/usr/bin/env node
// The CLI is compiled into dist/ by `npm install` (the "prepare" script) or `npm run build`.
let cli;
try {
  cli = await import('../dist/app/cli/main.js');
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes('dist')) throw err;
  process.stderr.write('unet-studio is not built yet: run "npm run build" in the project folder.\n');
  process.exit(1);
}
await cli.main();
