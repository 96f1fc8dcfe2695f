// Shared by the GPU test files (node:test): they run only where a GPU exists, and there the
// addon must be a CUDA build that sees it.
import assert from 'assert/strict';

import { native } from '../../src/native';
import { gpuPresent } from '../helpers/gpu';

/** node:test options: skipped (with the reason) where the machine has no GPU. */
export const onGpu = gpuPresent() ? {} : { skip: 'no GPU on this machine' };

/** Throws unless the loaded addon is a CUDA build that sees a GPU. */
export function assertCudaAddon(): void {
  const info = native().runtimeInfo();
  assert.ok(info.cudaBuilt, 'a GPU is present but the addon was built without CUDA');
  assert.ok(info.cudaDevices > 0, `a GPU is present but the addon sees ${info.cudaDevices} CUDA devices`);
}
