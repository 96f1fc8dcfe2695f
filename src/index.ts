/**
 * The public API of longrope. Import from here; deeper paths are internal and may move.
 */
export * from './rope';
export { applyRotary, rotaryGradients } from './model/rotary';
export type { RotaryOptions, RotaryResult } from './model/rotary';
export type { HostTensor, RuntimeInfo } from './native';

import { native, type RuntimeInfo } from './native';

/** What the loaded native addon offers: libtorch version, CUDA build and devices, threads. */
export function runtimeInfo(): RuntimeInfo {
  return native().runtimeInfo();
}
