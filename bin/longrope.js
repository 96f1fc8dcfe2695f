#!/usr/bin/env node
'use strict';
// The package runs its TypeScript directly (ts-node, transpile only: types are checked in CI).
require('ts-node').register({ transpileOnly: true, project: require('path').join(__dirname, '..', 'tsconfig.json') });
require('../src/cli.ts').runCli(process.argv.slice(2));
