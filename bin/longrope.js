#!/usr/bin/env node
'use strict';
// Runs the compiled CLI (dist/, built by `npm run setup`, `npm test` or `prepare`). In a checkout
// whose src/ changed since the last build, it runs src/ through ts-node instead (transpile only),
// so a developer never runs stale code; an installed package has no src/ and always runs dist/.
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
let cli;
if (fs.existsSync(path.join(root, 'src', 'cli.ts')) && !require('../scripts/lib/dist-state').distIsFresh(root)) {
  require('ts-node').register({ transpileOnly: true, project: path.join(root, 'tsconfig.json') });
  cli = require('../src/cli.ts');
} else {
  cli = require('../dist/cli.js');
}
cli.runCli(process.argv.slice(2));
