import v8 from 'node:v8';
import vm from 'node:vm';

// Buffers of large requests are freed only when V8 collects them, and an idle proxy allocates nothing
// that would trigger a collection: after a burst of large requests its RSS would stay at the peak. The
// same trick as jest's leak detector gets V8's gc() without starting Node with --expose-gc.
let gc: (() => void) | undefined;
try {
  v8.setFlagsFromString('--expose-gc');
  gc = vm.runInNewContext('gc') as () => void;
} catch {
  gc = undefined;
}

let timer: NodeJS.Timeout | undefined;

/** Collects garbage a second from now (once, however often it is asked), giving freed buffers back to the OS. */
export function collectGarbageSoon(): void {
  if (!gc || timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    gc?.();
  }, 1000);
  timer.unref();
}
