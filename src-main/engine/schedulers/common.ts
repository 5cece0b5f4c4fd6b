// The two names that code outside schedulers/ imported from here before the split into config.ts,
// noise-schedule.ts, numerics/ etc. (pipeline/generate.ts, tests/engine/pipeline/fake-model.ts). Both are also
// exported by ./index.js; once those importers use it, this file can go.
export { SD15_SCHEDULER_CONFIG } from './config.js';
export { getNoiseSchedule } from './noise-schedule.js';
