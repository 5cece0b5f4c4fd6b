// The engine worker in an Electron utilityProcess: a WorkerChannel for the studio service's engine client.
import { utilityProcess } from 'electron';
import type { EngineRequest, EngineEvent } from '../engine/worker/protocol.js';
import type { WorkerChannel } from '../host/engine.js';

export function utilityProcessChannel(entry: string): WorkerChannel {
  const child = utilityProcess.fork(entry, [], { serviceName: 'Latent Studio Engine', stdio: 'inherit' });
  let exited = false;
  return {
    // A separate process: killing it mid-run is safe (no need to wait for the engine to go idle first).
    isolation: 'process',
    post: (message: EngineRequest) => {
      if (!exited) child.postMessage(message);
    },
    onMessage: (handler: (message: EngineEvent) => void) => {
      child.on('message', (message: unknown) => handler(message as EngineEvent));
    },
    onExit: (handler) => {
      child.once('exit', (code: number) => {
        exited = true;
        handler({ code });
      });
    },
    terminate: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}
