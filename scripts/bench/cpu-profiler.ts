// A preload that profiles the process's main thread from start to exit and
// writes PROFILE_DIR/CPU.<pid>.cpuprofile, what `node --cpu-prof` does, for
// processes started through NODE_OPTIONS, where Node 20 refuses --cpu-prof:
//   NODE_OPTIONS=--import=<this, compiled> PROFILE_DIR=/tmp/p node main.js
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 200 µs, finer than --cpu-prof's 1 ms default: calls here take tens of µs.
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.start');
  // A main-thread session answers synchronously, so this works inside 'exit'.
  process.once('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error)
        writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
