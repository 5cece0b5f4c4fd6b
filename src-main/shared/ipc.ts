// Electron IPC channel names (main ⇄ preload). The renderer never sees these: it gets window.latentStudio.
//   invoke: ipcRenderer.invoke(IPC_INVOKE, channel, payload) → Result
//   events: main → webContents.send(IPC_EVENT, event, payload, seq?)
//   acks:   ipcRenderer.send(IPC_ACK, seq) after a preview frame was dispatched (one preview in flight per window)
export const IPC_INVOKE = 'latent-studio:invoke';
export const IPC_EVENT = 'latent-studio:event';
export const IPC_ACK = 'latent-studio:ack';
/** The global the preload exposes: window.latentStudio. */
export const BRIDGE_GLOBAL = 'latentStudio';
