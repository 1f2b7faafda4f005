#!/usr/bin/env node
// The `converge-relay` command. A committed shim, so npm can link it at install time, before
// `prepare` has built dist/.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
