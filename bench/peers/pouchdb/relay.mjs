// The PouchDB relay: express-pouchdb 4.2 (CouchDB's replication protocol over HTTP; it
// gzips responses, as CouchDB can) on express 4, databases on PouchDB's memory adapter.
// Prints {"port": N} once listening on 127.0.0.1; SIGTERM stops it.
import express from 'express';
import expressPouchDB from 'express-pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import PouchDB from 'pouchdb-core';

const MemoryPouch = PouchDB.plugin(memoryAdapter).defaults({ adapter: 'memory' });
const app = express();
app.use('/', expressPouchDB(MemoryPouch, { mode: 'minimumForPouchDB', inMemoryConfig: true, logPath: '/dev/null' }));
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.on('SIGTERM', () => process.exit(0));
