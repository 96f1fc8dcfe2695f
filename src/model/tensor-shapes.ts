/**
 * The weights a config implies, by Hugging Face name, from the one table of names the native
 * runtime loads by (native/model/tensor_names.h, exported as `tensorNames`): TypeScript checks a
 * checkpoint against exactly what native code will read.
 */
import { native, type NativeTensorDim } from '../native';
import type { ModelConfig } from './config';

/** Every weight of `config` with its shape, in the state_dict order (embeddings, layers, norm, head). */
export function expectedTensorShapes(config: ModelConfig): Map<string, number[]> {
  const { vocabSize, hiddenSize, intermediateSize, numHeads, numKvHeads, headDim } = config;
  const dims: Record<NativeTensorDim, number> = {
    vocab: vocabSize, hidden: hiddenSize, intermediate: intermediateSize, q: numHeads * headDim, kv: numKvHeads * headDim,
  };
  const names = native().tensorNames;
  const shapes = new Map<string, number[]>();
  const add = (name: string, shape: readonly NativeTensorDim[]) => shapes.set(name, shape.map((d) => dims[d]));
  add(names.embedTokens.name, names.embedTokens.shape);
  for (let i = 0; i < config.numLayers; i++) {
    for (const t of names.layer) add(`${names.layerPrefix}${i}.${t.name}`, t.shape);
  }
  add(names.finalNorm.name, names.finalNorm.shape);
  if (!config.tieWordEmbeddings) add(names.lmHead.name, names.lmHead.shape);
  return shapes;
}
