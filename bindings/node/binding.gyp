{
  "targets": [{
    "target_name": "pave_native",
    "sources": ["src/addon.cc"],
    "include_dirs": [
      "<!@(node -p \"require('node-addon-api').include\")",
      "<!@(pkg-config --variable=includedir pave)"
    ],
    "libraries": [
      "<!@(pkg-config --libs pave)",
      "-Wl,-rpath,<!@(pkg-config --variable=libdir pave)"
    ],
    "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O2"],
    "cflags_cc!": ["-fno-exceptions"]
  }]
}
