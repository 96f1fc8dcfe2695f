/** What the loaded native runtime offers, for the public API and `longrope info`. */
import { native, type RuntimeInfo } from '../native';

export type { RuntimeInfo };

/** What the loaded native addon offers: libtorch version, CUDA build and devices, threads. */
export function runtimeInfo(): RuntimeInfo {
  return native().runtimeInfo();
}
