{
  # Test-only addon for src/srtp.cc: npx node-gyp rebuild -C packages/media-native/test
  # OpenSSL comes from Node's own headers (include/node/openssl) and symbols (exported by the node binary).
  "targets": [
    {
      "target_name": "srtp_test",
      "sources": ["srtp-binding.cc", "../src/srtp.cc"],
      "include_dirs": ["../src"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
