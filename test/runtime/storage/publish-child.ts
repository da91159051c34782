// Child process for the crash tests: publishes argv[2] to argv[3], and after argv[4] files tells the parent
// (IPC) and waits to be SIGKILLed. A gs:// target uses STORAGE_EMULATOR_HOST from the environment.

import { isGcsUri } from '../../../runtime/storage';
import { interruptedStorage } from './interrupt';

const [localDir, finalUri, files] = process.argv.slice(2);
const storage = interruptedStorage(isGcsUri(finalUri) ? 'gcs' : 'local', Number(files), () => {
  process.send!('paused');
  return new Promise<never>(() => undefined);
});
storage.publishDirectory(localDir, finalUri).then(
  () => process.exit(3),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
