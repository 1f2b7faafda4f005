// The Yjs relay: y-websocket 2.1.0's server utilities (`setupWSConnection`, what its own
// `y-websocket` server binary runs), documents in memory, permessage-deflate off. With
// YJS_STATE_FILE set, the room's document starts from that file (a Yjs update: what a relay
// with persistence loads when the room opens). Messages up to 1 GiB (ws's default is 100 MiB;
// a Yjs catch-up is one message, and a browser has no such limit).
// Prints {"port": N} once listening on 127.0.0.1; SIGTERM stops it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { getYDoc, setupWSConnection } from 'y-websocket/bin/utils';

const stateFile = process.env.YJS_STATE_FILE;
if (stateFile) {
  // y-websocket's utilities load yjs as CommonJS: apply the update with that same copy.
  const Y = createRequire(import.meta.url)('yjs');
  Y.applyUpdate(getYDoc(process.env.YJS_ROOM ?? 'records', true), readFileSync(stateFile));
}
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 * 1024 });
wss.on('connection', setupWSConnection);
const server = createServer((_request, response) => response.writeHead(404).end());
server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
