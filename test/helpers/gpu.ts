/**
 * Whether this machine has an NVIDIA GPU, decided without the addon: a CPU-only build reports 0
 * CUDA devices, so asking the addon would skip every GPU test exactly when the CUDA build failed.
 */
import fs from 'fs';
import { spawnSync } from 'child_process';

export function gpuPresent(): boolean {
  try {
    if (fs.readdirSync('/proc/driver/nvidia/gpus').length > 0) return true;
  } catch {
    // no NVIDIA driver procfs: fall through
  }
  if (fs.existsSync('/dev/nvidia0')) return true;
  return spawnSync('nvidia-smi', ['-L'], { stdio: 'ignore' }).status === 0;
}
