{
  # The Convene media transport addon. OpenSSL comes from Node's own headers (include/node/openssl) and symbols
  # (exported by the node binary): nothing links libssl/libcrypto.
  "targets": [
    {
      "target_name": "convene_media",
      "sources": ["src/addon.cc", "src/endpoint.cc", "src/dtls.cc", "src/stun.cc", "src/srtp.cc"],
      "include_dirs": ["src"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
