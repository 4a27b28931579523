{
  # Built by scripts/build-native.mjs; torch_include/torch_lib point at a libtorch install
  # (Debian's libtorch-dev by default, or $LIBTORCH for pytorch.org's build).
  "variables": {
    "torch_include%": "/usr/include",
    "torch_lib%": "/usr/lib/x86_64-linux-gnu"
  },
  "targets": [
    {
      "target_name": "ssl_torch",
      "sources": ["src/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<(torch_include)",
        "<(torch_include)/torch/csrc/api/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-O3"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions", "-frtti", "-Wno-unused-parameter"],
      "libraries": [
        "-L<(torch_lib)",
        "-Wl,-rpath,<(torch_lib)",
        "-ltorch",
        "-ltorch_cpu",
        "-lc10"
      ]
    }
  ]
}
