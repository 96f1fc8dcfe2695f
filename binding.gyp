{
  "targets": [
    {
      "target_name": "longrope",
      "sources": [
        "native/addon.cc",
        "native/allocator.cc",
        "native/common.cc",
        "native/device.cc",
        "native/runtime_wrap.cc",
        "native/rope/rope_tables.cc",
        "native/rope/rope_cpu.cc",
        "native/rope/rope_op.cc",
        "native/rope/rope_naive.cc",
        "native/rope/rope_wrap.cc",
        "native/rope/rope_bench.cc",
        "native/attention/attention.cc",
        "native/attention/attention_sdpa.cc",
        "native/attention/attention_naive.cc",
        "native/attention/attention_tiled_cpu.cc",
        "native/attention/attention_flash_cpu.cc",
        "native/attention/attention_tiled_grad.cc",
        "native/attention/attention_flash_cpu_grad.cc",
        "native/attention/attention_wrap.cc",
        "native/attention/ring_attention.cc",
        "native/attention/ring_attention_grad.cc",
        "native/dist/communicator_c10d.cc",
        "native/dist/process_group_wrap.cc",
        "native/dist/dist_wrap.cc",
        "native/dist/sequence_parallel.cc",
        "native/model/weights.cc",
        "native/model/llama.cc",
        "native/model/fused_ops.cc",
        "native/model/model_wrap.cc",
        "native/model/model_args.cc",
        "native/job_wrap.cc",
        "native/train/trainer.cc",
        "native/train/trainer_wrap.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(node scripts/lib/find-torch.js include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GLIBCXX_USE_CXX11_ABI=1",
        "<!@(node -e \"require('fs').existsSync('/usr/include/gloo/algorithm.h') && console.log('LONGROPE_WITH_GLOO=1 USE_C10D_GLOO=1')\")"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=<!(node scripts/lib/find-torch.js cxxstd)", "-O3", "-fexceptions", "-frtti", "-Wno-unused-parameter", "-fopenmp"],
      "ldflags": ["-fopenmp"],
      "libraries": [
        "-L<!(node scripts/lib/find-torch.js libdir)",
        "-Wl,-rpath,<!(node scripts/lib/find-torch.js libdir)",
        "-ltorch",
        "-ltorch_cpu",
        "-lc10",
        "-ldl"
      ]
    }
  ]
}
