#!/usr/bin/env node
// The `converge-relay` command. A committed shim, so npm can link it at install time, before
// `prepare` has built dist/.
import { runCli } from '../dist/cli.js';

runCli(process.argv.slice(2));
