// The Automerge relay: an automerge-repo Repo with no storage (documents in memory) behind
// automerge-repo-network-websocket's server adapter, as automerge-repo's sync-server example
// runs it, permessage-deflate off. Prints {"port": N} once listening on 127.0.0.1.
import { Repo } from '@automerge/automerge-repo';
import { WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
// A sync server answers requests for documents; it does not announce them to every peer.
new Repo({ network: [new WebSocketServerAdapter(wss)], sharePolicy: async () => false });
wss.on('listening', () => console.log(JSON.stringify({ port: wss.address().port })));
process.on('SIGTERM', () => process.exit(0));
