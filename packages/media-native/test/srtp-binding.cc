// Test-only N-API addon exposing src/srtp.{h,cc} to test/srtp.test.ts and test/srtp-bench.mjs.
// Build: npx node-gyp rebuild -C packages/media-native/test   (output: test/build/Release/srtp_test.node)
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED 1
#endif

#include <malloc.h>
#include <node_api.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "../src/srtp.h"
#include "../src/srtp_testing.h"

using convene::SrtpProfile;
using convene::SrtpSession;
using convene::SrtpTestAccess;

namespace {

#define CHECK_NAPI(call)                                       \
  do {                                                         \
    if ((call) != napi_ok) {                                   \
      napi_throw_error(env, nullptr, "N-API call failed: " #call); \
      return nullptr;                                          \
    }                                                          \
  } while (0)

napi_value Throw(napi_env env, const char* msg) {
  napi_throw_error(env, nullptr, msg);
  return nullptr;
}

bool GetBytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  bool isTyped = false;
  if (napi_is_typedarray(env, v, &isTyped) != napi_ok || !isTyped) return false;
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(ptr);
  *len = length;
  return true;
}

bool GetOptionalBytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *data = nullptr;
    *len = 0;
    return true;
  }
  return GetBytes(env, v, data, len);
}

napi_value MakeBuffer(napi_env env, const uint8_t* data, size_t len) {
  napi_value out;
  void* copy;
  if (napi_create_buffer_copy(env, len, data, &copy, &out) != napi_ok) return nullptr;
  return out;
}

napi_value Number(napi_env env, double v) {
  napi_value out;
  napi_create_double(env, v, &out);
  return out;
}

int32_t GetInt(napi_env env, napi_value v) {
  int32_t out = 0;
  napi_get_value_int32(env, v, &out);
  return out;
}

SrtpSession* GetSession(napi_env env, napi_value v) {
  void* p = nullptr;
  if (napi_get_value_external(env, v, &p) != napi_ok) return nullptr;
  return static_cast<SrtpSession*>(p);
}

// createSession(profile, masterKey, masterSalt) -> External | null
napi_value CreateSession(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *key, *salt;
  size_t keyLen, saltLen;
  if (argc < 3 || !GetBytes(env, argv[1], &key, &keyLen) || !GetBytes(env, argv[2], &salt, &saltLen)) {
    return Throw(env, "createSession(profile, key, salt)");
  }
  auto* s = new SrtpSession();
  if (!s->Init(static_cast<SrtpProfile>(GetInt(env, argv[0])), key, keyLen, salt, saltLen)) {
    delete s;
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  napi_value ext;
  CHECK_NAPI(napi_create_external(
      env, s, [](napi_env, void* data, void*) { delete static_cast<SrtpSession*>(data); }, nullptr, &ext));
  return ext;
}

// setSessionKeys(session, rtpKey, rtpSalt, rtpAuth|null, rtcpKey, rtcpSalt, rtcpAuth|null) -> boolean
napi_value SetSessionKeys(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  SrtpSession* s = argc == 7 ? GetSession(env, argv[0]) : nullptr;
  uint8_t* p[6];
  size_t l[6];
  if (s == nullptr || !GetBytes(env, argv[1], &p[0], &l[0]) || !GetBytes(env, argv[2], &p[1], &l[1]) ||
      !GetOptionalBytes(env, argv[3], &p[2], &l[2]) || !GetBytes(env, argv[4], &p[3], &l[3]) ||
      !GetBytes(env, argv[5], &p[4], &l[4]) || !GetOptionalBytes(env, argv[6], &p[5], &l[5])) {
    return Throw(env, "setSessionKeys(session, rtpKey, rtpSalt, rtpAuth, rtcpKey, rtcpSalt, rtcpAuth)");
  }
  size_t keyLen, saltLen;
  convene::SrtpKeyLengths(s->profile(), &keyLen, &saltLen);
  const bool gcm = saltLen == 12;
  if (l[0] != keyLen || l[3] != keyLen || l[1] != saltLen || l[4] != saltLen ||
      (!gcm && (l[2] != 20 || l[5] != 20))) {
    return Throw(env, "setSessionKeys: wrong key, salt or auth key length for the profile");
  }
  static const uint8_t zeros[20] = {0};
  bool ok = SrtpTestAccess::SetSessionKeys(*s, p[0], p[1], p[2] ? p[2] : zeros, p[3], p[4], p[5] ? p[5] : zeros);
  napi_value out;
  napi_get_boolean(env, ok, &out);
  return out;
}

napi_value SetNextRtcpIndex(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  SrtpSession* s = argc == 2 ? GetSession(env, argv[0]) : nullptr;
  if (s == nullptr) return Throw(env, "setNextRtcpIndex(session, index)");
  uint32_t index = 0;
  napi_get_value_uint32(env, argv[1], &index);
  SrtpTestAccess::SetNextRtcpIndex(*s, index);
  return nullptr;
}

enum class Op { kProtectRtp, kUnprotectRtp, kProtectRtcp, kUnprotectRtcp };

// op(session, packet[, extraCap]) -> Buffer (result) | number (negative SrtpError). The input is not modified.
template <Op op>
napi_value Process(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  SrtpSession* s = argc >= 2 ? GetSession(env, argv[0]) : nullptr;
  uint8_t* data;
  size_t len;
  if (s == nullptr || !GetBytes(env, argv[1], &data, &len)) return Throw(env, "(session, packet[, extraCap])");
  int extra = convene::kSrtpMaxTrailer;
  if (argc >= 3) {
    napi_valuetype t;
    napi_typeof(env, argv[2], &t);
    if (t == napi_number) extra = GetInt(env, argv[2]);
  }
  // Guard bytes after the capacity catch writes past `cap`.
  constexpr size_t kGuard = 64;
  std::vector<uint8_t> buf(len + size_t(std::max(extra, 0)) + kGuard, 0xa5);
  if (len) std::memcpy(buf.data(), data, len);
  const int cap = int(len) + extra;
  int r;
  switch (op) {
    case Op::kProtectRtp:
      r = s->ProtectRtp(buf.data(), int(len), cap);
      break;
    case Op::kUnprotectRtp:
      r = s->UnprotectRtp(buf.data(), int(len));
      break;
    case Op::kProtectRtcp:
      r = s->ProtectRtcp(buf.data(), int(len), cap);
      break;
    default:
      r = s->UnprotectRtcp(buf.data(), int(len));
      break;
  }
  for (size_t i = len + size_t(std::max(extra, 0)); i < buf.size(); i++) {
    if (buf[i] != 0xa5) return Throw(env, "wrote past the buffer capacity");
  }
  if (r < 0) return Number(env, r);
  if (size_t(r) > len + size_t(std::max(extra, 0))) return Throw(env, "result longer than the capacity");
  return MakeBuffer(env, buf.data(), size_t(r));
}

// deriveKey(masterKey, masterSalt, label, outLen) -> Buffer | null
napi_value DeriveKey(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint8_t *key, *salt;
  size_t keyLen, saltLen;
  if (argc < 4 || !GetBytes(env, argv[0], &key, &keyLen) || !GetBytes(env, argv[1], &salt, &saltLen)) {
    return Throw(env, "deriveKey(key, salt, label, outLen)");
  }
  int label = GetInt(env, argv[2]);
  int outLen = GetInt(env, argv[3]);
  if (outLen < 0 || outLen > (1 << 20)) return Throw(env, "outLen");
  std::vector<uint8_t> out(size_t(outLen) + 1);
  if (!SrtpTestAccess::DeriveKey(key, keyLen, salt, saltLen, uint8_t(label), out.data(), size_t(outLen))) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  return MakeBuffer(env, out.data(), size_t(outLen));
}

napi_value KeyLengths(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  size_t k, s;
  napi_value out;
  if (!convene::SrtpKeyLengths(static_cast<SrtpProfile>(GetInt(env, argv[0])), &k, &s)) {
    napi_get_null(env, &out);
    return out;
  }
  napi_create_array_with_length(env, 2, &out);
  napi_set_element(env, out, 0, Number(env, double(k)));
  napi_set_element(env, out, 1, Number(env, double(s)));
  return out;
}

napi_value ProfileName(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const char* name = convene::SrtpProfileName(static_cast<SrtpProfile>(GetInt(env, argv[0])));
  napi_value out;
  if (name == nullptr) {
    napi_get_null(env, &out);
  } else {
    napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out);
  }
  return out;
}

using Clock = std::chrono::steady_clock;

double NsPerOp(Clock::time_point a, Clock::time_point b, int iters) {
  return double(std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count()) / iters;
}

// benchProtect(profile, kind, packetLen, iters) -> ns per call, measured in C++ (no N-API per packet).
// kind: "rtp" (ProtectRtp), "rtcp" (ProtectRtcp), "unprotectRtp" (ProtectRtp on one session, then the timed
// UnprotectRtp of pre-protected packets on another).
napi_value BenchProtect(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  auto profile = static_cast<SrtpProfile>(GetInt(env, argv[0]));
  char kind[32] = {0};
  size_t kindLen;
  napi_get_value_string_utf8(env, argv[1], kind, sizeof(kind), &kindLen);
  int len = GetInt(env, argv[2]);
  int iters = GetInt(env, argv[3]);
  if (len < 12 || len > 60000 || iters <= 0) return Throw(env, "bad benchmark arguments");
  size_t keyLen, saltLen;
  if (!convene::SrtpKeyLengths(profile, &keyLen, &saltLen)) return Throw(env, "profile");
  std::vector<uint8_t> key(keyLen, 0x11), salt(saltLen, 0x22);
  SrtpSession tx, rx;
  if (!tx.Init(profile, key.data(), keyLen, salt.data(), saltLen) ||
      !rx.Init(profile, key.data(), keyLen, salt.data(), saltLen)) {
    return Throw(env, "Init failed");
  }
  const int cap = len + convene::kSrtpMaxTrailer;
  std::vector<uint8_t> buf(size_t(cap), 0x5a);
  buf[0] = 0x80;
  buf[1] = 96;
  buf[8] = 0x12;
  buf[9] = 0x34;
  buf[10] = 0x56;
  buf[11] = 0x78;
  double ns = 0;
  if (std::strcmp(kind, "rtp") == 0) {
    for (int i = 0; i < 1000; i++) {  // warm up
      buf[2] = uint8_t(i >> 8);
      buf[3] = uint8_t(i);
      tx.ProtectRtp(buf.data(), len, cap);
    }
    auto a = Clock::now();
    for (int i = 0; i < iters; i++) {
      buf[2] = uint8_t(i >> 8);
      buf[3] = uint8_t(i);
      if (tx.ProtectRtp(buf.data(), len, cap) < 0) return Throw(env, "ProtectRtp failed");
    }
    ns = NsPerOp(a, Clock::now(), iters);
  } else if (std::strcmp(kind, "rtcp") == 0) {
    buf[1] = 200;
    auto a = Clock::now();
    for (int i = 0; i < iters; i++) {
      if (tx.ProtectRtcp(buf.data(), len, cap) < 0) return Throw(env, "ProtectRtcp failed");
    }
    ns = NsPerOp(a, Clock::now(), iters);
  } else if (std::strcmp(kind, "unprotectRtp") == 0) {
    const int n = std::min(iters, 20000);
    std::vector<std::vector<uint8_t>> packets(static_cast<size_t>(n));
    std::vector<int> lens(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) {
      buf[2] = uint8_t(i >> 8);
      buf[3] = uint8_t(i);
      packets[size_t(i)] = buf;
      lens[size_t(i)] = tx.ProtectRtp(packets[size_t(i)].data(), len, cap);
    }
    auto a = Clock::now();
    for (int i = 0; i < n; i++) {
      if (rx.UnprotectRtp(packets[size_t(i)].data(), lens[size_t(i)]) != len) return Throw(env, "UnprotectRtp failed");
    }
    ns = NsPerOp(a, Clock::now(), n);
  } else {
    return Throw(env, "kind: rtp | rtcp | unprotectRtp");
  }
  return Number(env, ns);
}

// The HMAC-SHA1 strategies the implementation chose between, timed on `len` bytes + the 4-byte ROC.
// method: "precomputed" (what srtp.cc does), "hmacCtxReinit" (HMAC_Init_ex with a NULL key),
// "evpMacReinit" (EVP_MAC_init with a NULL key), "evpMacDup" (EVP_MAC_CTX_dup of a keyed template).
napi_value BenchHmac(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char method[32] = {0};
  size_t methodLen;
  napi_get_value_string_utf8(env, argv[0], method, sizeof(method), &methodLen);
  int len = GetInt(env, argv[1]);
  int iters = GetInt(env, argv[2]);
  if (len < 0 || len > 60000 || iters <= 0) return Throw(env, "bad benchmark arguments");
  std::vector<uint8_t> data(size_t(len), 0x3c);
  uint8_t key[20];
  for (int i = 0; i < 20; i++) key[i] = uint8_t(i * 7 + 1);
  const uint8_t roc[4] = {0, 0, 0, 1};
  uint8_t out[EVP_MAX_MD_SIZE];
  volatile uint8_t sink = 0;
  double ns = 0;
  if (std::strcmp(method, "precomputed") == 0) {
    SHA_CTX inner, outer;
    uint8_t pad[64];
    for (int i = 0; i < 64; i++) pad[i] = uint8_t((i < 20 ? key[i] : 0) ^ 0x36);
    SHA1_Init(&inner);
    SHA1_Update(&inner, pad, 64);
    for (int i = 0; i < 64; i++) pad[i] ^= 0x36 ^ 0x5c;
    SHA1_Init(&outer);
    SHA1_Update(&outer, pad, 64);
    auto a = Clock::now();
    for (int i = 0; i < iters; i++) {
      SHA_CTX c = inner;
      SHA1_Update(&c, data.data(), data.size());
      SHA1_Update(&c, roc, 4);
      uint8_t d[20];
      SHA1_Final(d, &c);
      c = outer;
      SHA1_Update(&c, d, 20);
      SHA1_Final(out, &c);
      sink = sink ^ out[0];
    }
    ns = NsPerOp(a, Clock::now(), iters);
    // Cross-check against one-shot HMAC.
    uint8_t ref[EVP_MAX_MD_SIZE];
    unsigned refLen = 0;
    std::vector<uint8_t> msg(data);
    msg.insert(msg.end(), roc, roc + 4);
    HMAC(EVP_sha1(), key, 20, msg.data(), msg.size(), ref, &refLen);
    if (refLen != 20 || std::memcmp(ref, out, 20) != 0) return Throw(env, "precomputed HMAC mismatch");
  } else if (std::strcmp(method, "hmacCtxReinit") == 0) {
    HMAC_CTX* h = HMAC_CTX_new();
    HMAC_Init_ex(h, key, 20, EVP_sha1(), nullptr);
    auto a = Clock::now();
    for (int i = 0; i < iters; i++) {
      unsigned ol = 0;
      HMAC_Init_ex(h, nullptr, 0, nullptr, nullptr);
      HMAC_Update(h, data.data(), data.size());
      HMAC_Update(h, roc, 4);
      HMAC_Final(h, out, &ol);
      sink = sink ^ out[0];
    }
    ns = NsPerOp(a, Clock::now(), iters);
    HMAC_CTX_free(h);
  } else if (std::strcmp(method, "evpMacReinit") == 0 || std::strcmp(method, "evpMacDup") == 0) {
    const bool dup = std::strcmp(method, "evpMacDup") == 0;
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* tmpl = EVP_MAC_CTX_new(mac);
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_END};
    if (EVP_MAC_init(tmpl, key, 20, params) != 1) return Throw(env, "EVP_MAC_init");
    auto a = Clock::now();
    for (int i = 0; i < iters; i++) {
      size_t ol = 0;
      EVP_MAC_CTX* c = tmpl;
      if (dup) {
        c = EVP_MAC_CTX_dup(tmpl);
      } else {
        EVP_MAC_init(c, nullptr, 0, nullptr);
      }
      EVP_MAC_update(c, data.data(), data.size());
      EVP_MAC_update(c, roc, 4);
      EVP_MAC_final(c, out, &ol, sizeof(out));
      if (dup) EVP_MAC_CTX_free(c);
      sink = sink ^ out[0];
    }
    ns = NsPerOp(a, Clock::now(), iters);
    EVP_MAC_CTX_free(tmpl);
    EVP_MAC_free(mac);
  } else {
    return Throw(env, "method: precomputed | hmacCtxReinit | evpMacReinit | evpMacDup");
  }
  (void)sink;
  return Number(env, ns);
}

// memory(profile, sessions, ssrcsPerSession) -> { sizeofSession, implSize, ownHeapBytes, heapPerSession }
// heapPerSession: glibc heap in use (mallinfo2, main arena) after creating `sessions` initialized sessions,
// each having protected one packet for each of `ssrcsPerSession` SSRCs, divided by `sessions`.
napi_value Memory(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK_NAPI(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  auto profile = static_cast<SrtpProfile>(GetInt(env, argv[0]));
  int n = GetInt(env, argv[1]);
  int ssrcs = GetInt(env, argv[2]);
  size_t keyLen, saltLen;
  if (n <= 0 || n > 100000 || ssrcs < 0 || !convene::SrtpKeyLengths(profile, &keyLen, &saltLen)) {
    return Throw(env, "memory(profile, sessions, ssrcs)");
  }
  std::vector<uint8_t> key(keyLen, 0x11), salt(saltLen, 0x22);
  std::vector<SrtpSession*> sessions;
  sessions.reserve(size_t(n));
  uint8_t pkt[64 + convene::kSrtpMaxTrailer] = {0x80, 96};
  malloc_trim(0);
  const size_t before = mallinfo2().uordblks;
  for (int i = 0; i < n; i++) {
    auto* s = new SrtpSession();
    s->Init(profile, key.data(), keyLen, salt.data(), saltLen);
    for (int j = 0; j < ssrcs; j++) {
      pkt[11] = uint8_t(j);
      s->ProtectRtp(pkt, 64, int(sizeof(pkt)));
    }
    sessions.push_back(s);
  }
  const size_t after = mallinfo2().uordblks;
  const size_t own = SrtpTestAccess::OwnHeapBytes(*sessions[0]);
  for (SrtpSession* s : sessions) delete s;
  napi_value out;
  napi_create_object(env, &out);
  napi_set_named_property(env, out, "sizeofSession", Number(env, double(sizeof(SrtpSession))));
  napi_set_named_property(env, out, "implSize", Number(env, double(SrtpTestAccess::ImplSize())));
  napi_set_named_property(env, out, "ownHeapBytes", Number(env, double(own)));
  napi_set_named_property(env, out, "heapPerSession", Number(env, (double(after) - double(before)) / n));
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"createSession", nullptr, CreateSession, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setSessionKeys", nullptr, SetSessionKeys, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setNextRtcpIndex", nullptr, SetNextRtcpIndex, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"protectRtp", nullptr, Process<Op::kProtectRtp>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unprotectRtp", nullptr, Process<Op::kUnprotectRtp>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"protectRtcp", nullptr, Process<Op::kProtectRtcp>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unprotectRtcp", nullptr, Process<Op::kUnprotectRtcp>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"deriveKey", nullptr, DeriveKey, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"keyLengths", nullptr, KeyLengths, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"profileName", nullptr, ProfileName, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"benchProtect", nullptr, BenchProtect, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"benchHmac", nullptr, BenchHmac, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"memory", nullptr, Memory, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
