// Entry of the Electron utilityProcess that runs the engine worker (out/main/engine-host.js). The engine's
// worker module talks to process.parentPort through its port abstraction (engine/worker/port.ts).
import '../engine/worker/engine.worker.js';
