/** config.json: every field, every rule's exact message, writing back, expected tensor shapes. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import test from 'ava';

import { modelConfigToJson, parseModelConfig, readModelConfig, type ModelConfig } from '../../src/model/config';
import { expectedTensorShapes } from '../../src/model/tensor-shapes';
import { ModelFileError } from '../../src/model/safetensors';
import type { RopeSpec } from '../../src/rope';
import { LLAMA2_7B, tempDir, tinyConfigJson } from '../fixtures/checkpoint/make';

/** Mistral-7B-v0.1's config.json as published. */
const MISTRAL_7B = {
  architectures: ['MistralForCausalLM'], bos_token_id: 1, eos_token_id: 2, hidden_act: 'silu', hidden_size: 4096,
  initializer_range: 0.02, intermediate_size: 14336, max_position_embeddings: 32768, model_type: 'mistral',
  num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, rms_norm_eps: 1e-5, rope_theta: 10000.0,
  sliding_window: 4096, tie_word_embeddings: false, torch_dtype: 'bfloat16', transformers_version: '4.34.0.dev0',
  use_cache: true, vocab_size: 32000,
};

const msg = (field: string, what: string, got: string) => `config.json: Expected ${what} for ${field} but received ${got}`;

function throwsMessage(t: import('ava').ExecutionContext, json: unknown, message: string): void {
  const err = t.throws(() => parseModelConfig(json), { instanceOf: ModelFileError });
  t.is(err?.message, message);
}

test('LLaMA-2-7B', (t) => {
  const c = parseModelConfig(LLAMA2_7B);
  const { raw, rope, ...rest } = c;
  t.deepEqual(rest, {
    architecture: 'llama', vocabSize: 32000, hiddenSize: 4096, intermediateSize: 11008, numLayers: 32, numHeads: 32,
    numKvHeads: 32, headDim: 128, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 4096,
    originalMaxPositionEmbeddings: 4096, slidingWindow: null, tieWordEmbeddings: false, torchDtype: 'float16',
    bosTokenId: 1, eosTokenId: 2,
  });
  t.deepEqual(raw, LLAMA2_7B);
  t.not(raw, LLAMA2_7B as unknown);
  t.like(rope, { method: 'none', headDim: 128, base: 10000, originalLength: 4096, length: 4096 });
});

test('Mistral-7B: GQA and sliding window', (t) => {
  const c = parseModelConfig(MISTRAL_7B);
  t.like(c, { architecture: 'mistral', numKvHeads: 8, headDim: 128, slidingWindow: 4096, torchDtype: 'bfloat16', maxPositionEmbeddings: 32768 });
  t.is(parseModelConfig({ ...MISTRAL_7B, sliding_window: null }).slidingWindow, null);
  // HF's LLaMA ignores sliding_window.
  t.is(parseModelConfig({ ...LLAMA2_7B, sliding_window: 4096 }).slidingWindow, null);
});

test('defaults: kv heads, head_dim, eps, theta, tie, dtype, token ids, model_type fallback', (t) => {
  const min = { model_type: 'mistral', vocab_size: 10, hidden_size: 8, intermediate_size: 4, num_hidden_layers: 1, num_attention_heads: 2, max_position_embeddings: 16 };
  t.like(parseModelConfig(min), {
    architecture: 'mistral', numKvHeads: 2, headDim: 4, rmsNormEps: 1e-6, ropeTheta: 10000, tieWordEmbeddings: false,
    torchDtype: 'float32', bosTokenId: null, eosTokenId: null, slidingWindow: null, originalMaxPositionEmbeddings: 16,
  });
  t.is(parseModelConfig({ ...min, head_dim: 6 }).headDim, 6);
  t.is(parseModelConfig({ ...min, head_dim: null }).headDim, 4);
  t.is(parseModelConfig({ ...min, dtype: 'bfloat16' }).torchDtype, 'bfloat16');
  t.is(parseModelConfig({ ...min, eos_token_id: [3, 4] }).eosTokenId, 3);
});

test('RoPE scaling is read through ropeSpecFromHfConfig', (t) => {
  const c = parseModelConfig(tinyConfigJson({ max_position_embeddings: 256, rope_scaling: { rope_type: 'yarn', factor: 4, original_max_position_embeddings: 64 } }));
  t.like(c.rope, { method: 'yarn', originalLength: 64, length: 256, headDim: 4 });
  t.is(c.originalMaxPositionEmbeddings, 64);
  const top = parseModelConfig(tinyConfigJson({ original_max_position_embeddings: 32 }));
  t.is(top.originalMaxPositionEmbeddings, 32);
});

test('unknown architecture names the accepted ones', (t) => {
  throwsMessage(t, tinyConfigJson({ architectures: ['GPT2LMHeadModel'] }),
    msg('architectures[0]', 'one of "LlamaForCausalLM", "MistralForCausalLM"', '"GPT2LMHeadModel" of type string'));
  throwsMessage(t, tinyConfigJson({ architectures: ['toString'] }),
    msg('architectures[0]', 'one of "LlamaForCausalLM", "MistralForCausalLM"', '"toString" of type string'));
  throwsMessage(t, tinyConfigJson({ architectures: 'LlamaForCausalLM' }),
    msg('architectures[0]', 'one of "LlamaForCausalLM", "MistralForCausalLM"', '"LlamaForCausalLM" of type string'));
  const { architectures: _a, model_type: _m, ...none } = tinyConfigJson();
  throwsMessage(t, none, msg('architectures', 'one of "LlamaForCausalLM", "MistralForCausalLM" (or model_type "llama" or "mistral")', 'undefined'));
});

test('missing, non-positive, NaN, fractional and huge sizes', (t) => {
  for (const key of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'max_position_embeddings']) {
    const { [key]: _, ...rest } = tinyConfigJson();
    throwsMessage(t, rest, msg(key, 'a positive integer', 'undefined'));
    throwsMessage(t, tinyConfigJson({ [key]: 0 }), msg(key, 'a positive integer', '0 of type number'));
  }
  throwsMessage(t, tinyConfigJson({ hidden_size: 'NaN' }), msg('hidden_size', 'a positive integer', '"NaN" of type string'));
  throwsMessage(t, tinyConfigJson({ vocab_size: 1e300 }), msg('vocab_size', 'a positive integer', '1e+300 of type number'));
  throwsMessage(t, tinyConfigJson({ intermediate_size: 2.5 }), msg('intermediate_size', 'a positive integer', '2.5 of type number'));
  throwsMessage(t, tinyConfigJson({ rms_norm_eps: -1 }), msg('rms_norm_eps', 'a finite number greater than 0', '-1 of type number'));
});

test('bounds: int32 sizes and windows, at most 4096 layers', (t) => {
  throwsMessage(t, tinyConfigJson({ num_hidden_layers: 5000 }), msg('num_hidden_layers', 'a positive integer at most 4096', '5000 of type number'));
  throwsMessage(t, tinyConfigJson({ vocab_size: 2 ** 31 }), msg('vocab_size', 'a positive integer at most 2147483647', '2147483648 of type number'));
  throwsMessage(t, tinyConfigJson({ head_dim: 2 ** 30 }), msg('head_dim', 'num_attention_heads x head_dim at most 2147483647', '1073741824 of type number'));
  throwsMessage(t, tinyConfigJson({ rope_scaling: { rope_type: 'linear', factor: 2 ** 40 } }),
    msg('rope_scaling.factor', 'a factor giving a window of at most 2147483647 positions', '1099511627776 of type number'));
  throwsMessage(t, tinyConfigJson({ rope_scaling: { rope_type: 'yarn', factor: 2, original_max_position_embeddings: 2 ** 40 } }),
    msg('rope_scaling.original_max_position_embeddings', 'a positive integer at most 2147483647', '1099511627776 of type number'));
});

test('heads must divide', (t) => {
  throwsMessage(t, tinyConfigJson({ num_attention_heads: 3, num_key_value_heads: 3 }),
    msg('num_attention_heads', 'a divisor of hidden_size (16) when head_dim is absent', '3 of type number'));
  throwsMessage(t, tinyConfigJson({ num_key_value_heads: 3 }), msg('num_key_value_heads', 'a divisor of num_attention_heads (4)', '3 of type number'));
  // An explicit head_dim (Mistral-Nemo style) need not divide hidden_size.
  t.is(parseModelConfig(tinyConfigJson({ num_attention_heads: 3, num_key_value_heads: 1, head_dim: 6 })).headDim, 6);
});

test('other fields: act, biases, tie, dtype, token ids', (t) => {
  throwsMessage(t, tinyConfigJson({ hidden_act: 'gelu' }), msg('hidden_act', '"silu" (the only MLP activation the runtime implements)', '"gelu" of type string'));
  throwsMessage(t, tinyConfigJson({ attention_bias: true }), msg('attention_bias', 'false (the runtime has no projection biases)', 'true of type boolean'));
  throwsMessage(t, tinyConfigJson({ tie_word_embeddings: 'yes' }), msg('tie_word_embeddings', 'a boolean', '"yes" of type string'));
  throwsMessage(t, tinyConfigJson({ torch_dtype: 'int8' }), msg('torch_dtype', 'one of "float32", "float16", "bfloat16"', '"int8" of type string'));
  throwsMessage(t, tinyConfigJson({ bos_token_id: 32 }), msg('bos_token_id', 'null, or an integer in [0, 32) (or a list of them)', '32 of type number'));
  throwsMessage(t, tinyConfigJson({ sliding_window: -1, architectures: ['MistralForCausalLM'] }), msg('sliding_window', 'a positive integer', '-1 of type number'));
  throwsMessage(t, [], msg('config', 'a JSON object', 'an array of length 0'));
});

test('RoPE errors keep ropeSpecFromHfConfig\'s message under our prefix', (t) => {
  const err = t.throws(() => parseModelConfig(tinyConfigJson({ rope_scaling: { rope_type: 'magic' } })), { instanceOf: ModelFileError });
  t.regex(err!.message, /^config\.json: Expected one of "default", .* for rope_scaling\.rope_type but received "magic" of type string$/);
  t.is(err!.field, 'rope_scaling.rope_type');
});

test('readModelConfig: file, missing, not JSON', (t) => {
  const dir = tempDir();
  t.throws(() => readModelConfig(dir), { instanceOf: ModelFileError, message: `config.json: no config.json in ${dir}` });
  fs.writeFileSync(path.join(dir, 'config.json'), '{"vocab_size": ');
  t.throws(() => readModelConfig(dir), { instanceOf: ModelFileError, message: /^config\.json: Expected valid JSON for config\.json but received a syntax error/ });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(LLAMA2_7B));
  t.is(readModelConfig(dir).numLayers, 32);
});

const strip = ({ raw: _raw, ...c }: ModelConfig) => c;

test('modelConfigToJson round trips and keeps unknown fields', (t) => {
  for (const json of [LLAMA2_7B, MISTRAL_7B, tinyConfigJson({ head_dim: 8 }), tinyConfigJson({ eos_token_id: [2, 3] })]) {
    const c = parseModelConfig(json);
    const out = modelConfigToJson(c);
    t.deepEqual(strip(parseModelConfig(out)), strip(c));
    t.is(out.initializer_range, (json as Record<string, unknown>).initializer_range);
  }
  t.deepEqual(modelConfigToJson(parseModelConfig(tinyConfigJson({ eos_token_id: [2, 3] }))).eos_token_id, [2, 3]);
});

test('modelConfigToJson writes an extended RoPE and drops stale keys', (t) => {
  const c = parseModelConfig({ ...LLAMA2_7B, original_max_position_embeddings: 4096, rope_parameters: { rope_type: 'default' } });
  const ext: RopeSpec = { ...c.rope, method: 'yarn', length: 32768 };
  const out = modelConfigToJson(c, ext);
  t.is(out.rope_parameters, undefined);
  t.deepEqual(out.rope_scaling, { rope_type: 'yarn', factor: 8, original_max_position_embeddings: 4096 });
  t.is(out.max_position_embeddings, 32768);
  const back = parseModelConfig(out);
  t.like(back.rope, { method: 'yarn', length: 32768, originalLength: 4096 });
  t.is(back.originalMaxPositionEmbeddings, 4096);
  // Plain RoPE again: no stale original_max_position_embeddings.
  t.false('original_max_position_embeddings' in modelConfigToJson(c));
  t.throws(() => modelConfigToJson(c, { ...ext, headDim: 64 }), {
    instanceOf: TypeError, message: 'Expected headDim 128 (the model\'s rotary dims) for ropeOverride.headDim but received 64 of type number',
  });
});

test('expectedTensorShapes: names, shapes, order, tied embeddings', (t) => {
  const c = parseModelConfig(tinyConfigJson());
  const m = expectedTensorShapes(c);
  t.is(m.size, 1 + 2 * 9 + 2);
  const keys = [...m.keys()];
  t.is(keys[0], 'model.embed_tokens.weight');
  t.deepEqual(keys.slice(-2), ['model.norm.weight', 'lm_head.weight']);
  t.deepEqual(m.get('model.embed_tokens.weight'), [32, 16]);
  t.deepEqual(m.get('model.layers.1.self_attn.q_proj.weight'), [16, 16]);
  t.deepEqual(m.get('model.layers.1.self_attn.k_proj.weight'), [8, 16]);
  t.deepEqual(m.get('model.layers.1.self_attn.v_proj.weight'), [8, 16]);
  t.deepEqual(m.get('model.layers.1.self_attn.o_proj.weight'), [16, 16]);
  t.deepEqual(m.get('model.layers.0.mlp.gate_proj.weight'), [24, 16]);
  t.deepEqual(m.get('model.layers.0.mlp.up_proj.weight'), [24, 16]);
  t.deepEqual(m.get('model.layers.0.mlp.down_proj.weight'), [16, 24]);
  t.deepEqual(m.get('model.layers.0.input_layernorm.weight'), [16]);
  t.deepEqual(m.get('model.layers.0.post_attention_layernorm.weight'), [16]);
  t.false(expectedTensorShapes(parseModelConfig(tinyConfigJson({ tie_word_embeddings: true }))).has('lm_head.weight'));
  const nemo = expectedTensorShapes(parseModelConfig(tinyConfigJson({ head_dim: 8 })));
  t.deepEqual(nemo.get('model.layers.0.self_attn.q_proj.weight'), [32, 16]);
  t.deepEqual(nemo.get('model.layers.0.self_attn.o_proj.weight'), [16, 32]);
});
