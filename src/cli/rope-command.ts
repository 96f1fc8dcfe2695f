/**
 * `longrope rope`: the inverse frequencies, attention factor and nHat of a RoPE scaling method,
 * from flags or from a Hugging Face config.json. Later tools (and people) script against --json.
 */
import fs from 'fs';
import type { Command } from 'commander';

import { InputError } from '../common/errors';
import { readJsonFile } from '../common/files';
import {
  computeRopeTables,
  hfConfigPatchFromSpec,
  methodToLongropeFactors,
  parseFactorCsv,
  ropeSpecFromHfConfig,
  validateRopeSpec,
  type RopeSpec,
} from '../rope';

interface RopeFlags {
  method?: string;
  headDim?: string;
  base: string;
  originalLength?: string;
  length?: string;
  factor?: string;
  factors?: string;
  shortFactors?: string;
  layer: string;
  nHat?: string;
  attentionFactor?: string;
  seqLen?: string;
  config?: string;
  json?: boolean;
  hf?: boolean;
}

/** A number flag: undefined when absent; NaN stays NaN so validation names the field. */
function num(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Number(value);
}

function readFactorFile(file: string, headDim: number, layer: number): number[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the factor file (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  const parsed = parseFactorCsv(text, { headDim, where: file });
  if (!Array.isArray(parsed[0])) return parsed as number[];
  const layers = parsed as number[][];
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers.length) {
    throw new Error(`${file}: Expected a layer in 0..${layers.length - 1} for --layer but received ${layer}`);
  }
  return layers[layer];
}

function readConfig(file: string, flags: RopeFlags): RopeSpec {
  const config = readJsonFile(file, { where: file });
  if (config === undefined) throw new InputError(`${file}: no such config file`, '--config', { file });
  return ropeSpecFromHfConfig(config as Record<string, unknown>, { where: file, length: num(flags.length) });
}

/** Builds the RopeSpec the flags describe (validated). */
export function ropeSpecFromFlags(flags: RopeFlags): RopeSpec {
  if (flags.config) return readConfig(flags.config, flags);
  if (!flags.method) throw new Error('Expected a method for --method but received nothing (or give --config FILE)');
  const headDim = num(flags.headDim);
  const spec: Record<string, unknown> = {
    method: flags.method,
    headDim,
    base: num(flags.base),
    originalLength: num(flags.originalLength),
    length: num(flags.length),
    factor: num(flags.factor),
    nHat: num(flags.nHat),
    attentionFactor: num(flags.attentionFactor),
  };
  if (flags.factors) spec.longFactors = readFactorFile(flags.factors, headDim ?? NaN, Number(flags.layer));
  if (flags.shortFactors) spec.shortFactors = readFactorFile(flags.shortFactors, headDim ?? NaN, Number(flags.layer));
  for (const k of Object.keys(spec)) if (spec[k] === undefined) delete spec[k];
  // Factor files from the reference code need not satisfy the search's constraints to be used.
  return validateRopeSpec(spec, undefined, { searchConstraints: false });
}

function printTable(spec: RopeSpec, seqLen: number | undefined): void {
  const tables = computeRopeTables(spec, seqLen);
  const lambdas = methodToLongropeFactors(spec, seqLen);
  console.log(`method ${spec.method}, head dim ${spec.headDim}, base ${spec.base}, ` +
    `L ${spec.originalLength} -> ${spec.length}; attention factor ${tables.attentionFactor.toFixed(6)}, nHat ${tables.nHat}`);
  console.log('   i   base invFreq      invFreq   lambda');
  tables.invFreq.forEach((inv, i) => {
    const row = [String(i).padStart(4), tables.baseInvFreq[i].toExponential(6).padStart(14),
      inv.toExponential(6).padStart(14), lambdas[i].toFixed(4).padStart(8)];
    console.log(row.join(' '));
  });
}

/** Registers `rope` on the CLI program. */
export function registerRopeCommand(program: Command): void {
  program
    .command('rope')
    .description('print the inverse frequencies, attention factor and nHat of a RoPE scaling method')
    .option('--method <m>', 'none | linear | ntk | dynamic-ntk | yarn | llama3 | longrope')
    .option('--head-dim <d>', 'rotary dims of one head')
    .option('--base <b>', 'rope theta', '10000')
    .option('--original-length <L>', 'pretrained context window (original_max_position_embeddings)')
    .option('--length <N>', 'target context window')
    .option('--factor <s>', 'extension ratio (default length / original length)')
    .option('--factors <file>', 'longrope long factors: one per line, or one line per layer')
    .option('--short-factors <file>', 'longrope short factors (default all 1)')
    .option('--layer <n>', 'layer to use from a per-layer factor file', '0')
    .option('--n-hat <k>', 'longrope: start tokens kept unscaled')
    .option('--attention-factor <a>', 'override the attention factor')
    .option('--seq-len <n>', 'sequence length to compute for (short/long switch, dynamic NTK); default --length')
    .option('--config <file>', 'read the spec from a Hugging Face config.json instead of flags')
    .option('--hf', 'print the Hugging Face config fields (rope_theta, rope_scaling, ...) instead')
    .option('--json', 'print {"invFreq": [...], "attentionFactor": x, "nHat": k}')
    .action((flags: RopeFlags) => {
      const spec = ropeSpecFromFlags(flags);
      const seqLen = num(flags.seqLen);
      if (flags.hf) {
        console.log(JSON.stringify(hfConfigPatchFromSpec(spec), null, 2));
      } else if (flags.json) {
        const t = computeRopeTables(spec, seqLen);
        console.log(JSON.stringify({ invFreq: Array.from(t.invFreq), attentionFactor: t.attentionFactor, nHat: t.nHat }));
      } else {
        printTable(spec, seqLen);
      }
    });
}
