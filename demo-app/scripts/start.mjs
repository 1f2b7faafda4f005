#!/usr/bin/env node
// `npm start`: the relay (port 8787, SQLite under ./data/) and the demo (Vite dev server, or the
// static build with --static), one process; Ctrl-C stops both. Ports and the data directory can
// be overridden for tests: --port/DEMO_PORT, --relay-port/RELAY_PORT, --data/DEMO_DATA (0 picks a free port).
// --cluster: PostgreSQL (a primary and two synchronous standbys under <data>/pg) and two relays instead (demo-cluster.mjs).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startDemoRelay, SYNC_PATH } from './demo-relay.mjs';

const DEMO = resolve(import.meta.dirname, '..');
const HELP = `npm start [-- options]      the Converge demo: relay + web app
  --port N          the demo's port (default 5173, env DEMO_PORT; 0: a free one)
  --relay-port N    the relay's port (default 8787, env RELAY_PORT; 0: a free one)
  --host ADDR       the demo's address (default localhost)
  --data DIR        where the relay keeps its SQLite database (default ./data, env DEMO_DATA)
  --static          serve the static build (npm run build) from the relay's port instead of Vite
  --cluster         PostgreSQL instead of SQLite: a primary and 2 synchronous standbys (a fresh cluster
                    under <data>/pg, needs PostgreSQL's server programs), two relays, and a "kill the
                    primary" control on the page; --relay-port is relay A's, relay B takes a free port
  --pg-bin DIR      where PostgreSQL's server programs are, with --cluster (default: $PG_BIN,
                    pg_config --bindir, then the newest /usr/lib/postgresql/<version>/bin)
  --dist DIR        the static build to serve with --static (default demo-app/dist)`;

function portOf(text, name) {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number from 0 to 65535, not '${text}'`);
  return port;
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: process.env.DEMO_PORT ?? '5173' },
      'relay-port': { type: 'string', default: process.env.RELAY_PORT ?? '8787' },
      host: { type: 'string', default: 'localhost' },
      data: { type: 'string', default: process.env.DEMO_DATA ?? join(process.cwd(), 'data') },
      static: { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      'pg-bin': { type: 'string' },
      dist: { type: 'string', default: join(DEMO, 'dist') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const dataDir = resolve(values.data);
  const staticDir = values.static ? resolve(values.dist) : undefined;
  if (staticDir !== undefined && !existsSync(join(staticDir, 'index.html'))) throw new Error(`no static build in ${staticDir}: run \`npm run build\` first`);
  if (values.cluster && staticDir !== undefined) throw new Error('--cluster runs with the Vite dev server only (not with --static)');
  const relayPort = portOf(values['relay-port'], '--relay-port');
  const inUse = (error) => {
    if (error.code === 'EADDRINUSE') throw new Error(`port ${relayPort} is in use (another npm start?): stop it or pass --relay-port`);
    throw error;
  };
  let relay;
  let cluster;
  if (values.cluster) {
    console.log(`Starting PostgreSQL (a primary and 2 synchronous standbys under ${join(dataDir, 'pg')}) and two relays…`);
    const { startDemoCluster } = await import('./demo-cluster.mjs');
    cluster = await startDemoCluster({ dataDir, relayPorts: [relayPort, 0], binDir: values['pg-bin'], log: (line) => console.log(line) }).catch((error) => {
      if (/server binaries not found/.test(error.message)) throw new Error(`--cluster needs PostgreSQL's server programs: ${error.message}`);
      return inUse(error);
    });
    relay = cluster.relays.A;
    process.env.CONVERGE_RELAY_B_PORT = String(cluster.relays.B.port);
  } else {
    relay = await startDemoRelay({ port: relayPort, host: '127.0.0.1', dataDir, ...(staticDir === undefined ? {} : { staticDir }) }).catch(inUse);
  }
  let vite;
  let url = `http://localhost:${relay.port}/`;
  if (staticDir === undefined) {
    process.env.CONVERGE_RELAY_PORT = String(relay.port);
    const { createServer } = await import('vite');
    vite = await createServer({
      root: DEMO,
      configFile: join(DEMO, 'vite.config.ts'),
      clearScreen: false,
      logLevel: 'warn',
      server: { port: portOf(values.port, '--port'), host: values.host },
    });
    await vite.listen();
    url = vite.resolvedUrls?.local[0] ?? `http://${values.host}:${vite.httpServer.address().port}/`;
  }
  console.log(`Converge demo: ${url}`);
  if (cluster === undefined) console.log(`  relay: ws://127.0.0.1:${relay.port}${SYNC_PATH} (SQLite in ${dataDir}; no authentication: a demo)`);
  else {
    const nodes = cluster.cluster.nodes.map((node) => `${node.name} :${node.port}`).join(', ');
    console.log(`  PostgreSQL ${cluster.cluster.major}: ${nodes} (primary s0, synchronous_standby_names ANY 1 (s1, s2)) in ${cluster.cluster.root}`);
    console.log(
      `  relays: A ws://127.0.0.1:${cluster.relays.A.port}${SYNC_PATH}, B ws://127.0.0.1:${cluster.relays.B.port}${SYNC_PATH} (no authentication: a demo)`,
    );
  }
  console.log('  Ctrl-C stops both.');

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait
    stopping = true;
    console.log(`\n${signal}: stopping the demo and the relay`);
    await vite?.close();
    await (cluster ?? relay).close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error) => {
  console.error(`npm start: ${error.message}`);
  process.exit(1);
});
