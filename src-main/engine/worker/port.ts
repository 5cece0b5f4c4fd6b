// The worker's side of the channel: node worker_threads' parentPort, or an Electron utilityProcess'
// process.parentPort, or a forked child's process.send. Everything else in the worker talks to this interface only.
import { parentPort } from 'node:worker_threads';

export interface EnginePort {
  post(message: unknown, transfer?: ArrayBuffer[]): void;
  onMessage(handler: (message: unknown) => void): void;
  /** 'worker-thread' or 'utility-process'. */
  readonly kind: string;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function getEnginePort(): EnginePort {
  if (parentPort) {
    const port = parentPort;
    return {
      kind: 'worker-thread',
      post: (m, transfer) => port.postMessage(m, transfer ?? []),
      onMessage: (h) => port.on('message', h),
    };
  }
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      kind: 'utility-process',
      // Electron's parentPort structured-clones; it has no transfer list.
      post: (m) => electronPort.postMessage(m),
      onMessage: (h) => electronPort.on('message', (e) => h(e.data)),
    };
  }
  if (typeof process.send === 'function') {
    // A node child process forked with an IPC channel (EngineClient isolation: 'process').
    const send = process.send.bind(process);
    // The parent went away: nothing left to answer.
    process.on('disconnect', () => process.exit(0));
    return {
      kind: 'child-process',
      post: (m) => {
        send(m);
      },
      onMessage: (h) => {
        process.on('message', h);
      },
    };
  }
  throw new Error('engine.worker must run in a node worker thread, a forked child process or an Electron utility process');
}
