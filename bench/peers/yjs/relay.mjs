// The Yjs relay: y-websocket 2.1.0's server utilities (`setupWSConnection`, what its own
// `y-websocket` server binary runs), documents in memory, permessage-deflate off.
// Prints {"port": N} once listening on 127.0.0.1; SIGTERM stops it.
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';
import { setupWSConnection } from 'y-websocket/bin/utils';

const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
wss.on('connection', setupWSConnection);
const server = createServer((_request, response) => response.writeHead(404).end());
server.on('upgrade', (request, socket, head) => wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request)));
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
