/**
 * The worker thread that writes events into the store, so the proxy's own thread never waits on
 * SQLite: not on the inserts, and not on the WAL checkpoints that some commits run (a checkpoint
 * copies pages back into the database file and can take milliseconds). It opens its own connection
 * to the store; each message is one batch, answered with how many events were new.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RatriEvent } from '../telemetry/event.js';
import { EventStore } from './event-store.js';
import { openStore } from './store.js';

export interface WriteRequest {
  id: number;
  events: RatriEvent[];
}

export type WriteReply = { id: number; inserted: number } | { id: number; error: string };

const db = openStore((workerData as { path: string }).path);
const store = new EventStore(db);

parentPort!.on('message', (request: WriteRequest | 'close') => {
  if (request === 'close') {
    // Messages arrive in order: every batch sent before this one is stored. Closing the store
    // checkpoints the WAL; closing the port lets the thread end.
    db.close();
    parentPort!.close();
    return;
  }
  let reply: WriteReply;
  try {
    reply = { id: request.id, inserted: store.insert(request.events) };
  } catch (err) {
    reply = { id: request.id, error: (err as Error).message };
  }
  parentPort!.postMessage(reply);
});
