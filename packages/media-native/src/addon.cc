// N-API bindings of convene::Endpoint: class Endpoint and the EVENT_* constants.
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <node_api.h>

#include <cmath>
#include <string>

#include "dtls.h"
#include "endpoint.h"

namespace convene {
namespace {

constexpr size_t kMinRecvBuffer = 2048;

napi_value Throw(napi_env env, bool typeError, const std::string& message, const char* code = nullptr) {
  if (typeError) {
    napi_throw_type_error(env, code, message.c_str());
  } else {
    napi_throw_error(env, code, message.c_str());
  }
  return nullptr;
}

bool GetString(napi_env env, napi_value v, std::string* out) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, nullptr, 0, &len) != napi_ok) return false;
  out->resize(len);
  return napi_get_value_string_utf8(env, v, out->data(), len + 1, &len) == napi_ok;
}

bool GetProperty(napi_env env, napi_value obj, const char* name, napi_value* out, napi_valuetype* type) {
  if (napi_get_named_property(env, obj, name, out) != napi_ok) return false;
  return napi_typeof(env, *out, type) == napi_ok;
}

bool GetBytes(napi_env env, napi_value v, uint8_t** data, size_t* len) {
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return false;
  *data = static_cast<uint8_t*>(ptr);
  return true;
}

// A connection id: a Number that is an integer in 1..2^32-1. Anything else names no connection (ToUint32, as
// napi_get_value_uint32 does it, would turn 2**32 + 1 or 1.5 into connection 1).
inline bool GetId(napi_env env, napi_value v, uint32_t* id) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 1 && d <= 4294967295.0)) return false;  // NaN fails too
  const auto u = static_cast<uint32_t>(d);
  if (static_cast<double>(u) != d) return false;
  *id = u;
  return true;
}

Endpoint* Unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  void* ptr = nullptr;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  if (napi_unwrap(env, self, &ptr) != napi_ok || ptr == nullptr) {
    Throw(env, true, "not an Endpoint");
    return nullptr;
  }
  return static_cast<Endpoint*>(ptr);
}

// The hot path: bound per instance (the Endpoint is the function's data), no unwrap.
napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void* data = nullptr;
  napi_get_cb_info(env, info, &argc, argv, nullptr, &data);
  bool ok = false;
  uint32_t id;
  uint8_t* bytes;
  size_t len;
  if (argc >= 2 && GetId(env, argv[0], &id) && GetBytes(env, argv[1], &bytes, &len)) {
    ok = static_cast<Endpoint*>(data)->Send(id, bytes, len);
  }
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

void FinalizeEndpoint(napi_env /*env*/, void* data, void* /*hint*/) { static_cast<Endpoint*>(data)->Unref(); }

napi_value New(napi_env env, napi_callback_info info) {
  napi_value target;
  if (napi_get_new_target(env, info, &target) != napi_ok || target == nullptr) return Throw(env, true, "Class constructor Endpoint cannot be invoked without 'new'");
  size_t argc = 1;
  napi_value argv[1];
  napi_value self;
  napi_get_cb_info(env, info, &argc, argv, &self, nullptr);
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) return Throw(env, true, "options must be an object");
  napi_value opts = argv[0];

  Endpoint::Options o;
  napi_value v, onPacket, onEvent, recvBuffer;
  if (!GetProperty(env, opts, "ip", &v, &t) || t != napi_string || !GetString(env, v, &o.ip) || o.ip.find('\0') != std::string::npos) {
    return Throw(env, true, "options.ip must be a string");
  }
  double port = 0;
  if (!GetProperty(env, opts, "port", &v, &t) || t != napi_number || napi_get_value_double(env, v, &port) != napi_ok || !(port >= 0 && port <= 65535) ||
      std::floor(port) != port) {
    return Throw(env, true, "options.port must be an integer in 0..65535");
  }
  o.port = static_cast<int>(port);
  if (!GetProperty(env, opts, "recvBuffer", &recvBuffer, &t) || !GetBytes(env, recvBuffer, &o.recvBuffer, &o.recvBufferLength) ||
      o.recvBufferLength < kMinRecvBuffer) {
    return Throw(env, true, "options.recvBuffer must be a Buffer or Uint8Array of at least 2048 bytes");
  }
  if (!GetProperty(env, opts, "onPacket", &onPacket, &t) || t != napi_function) return Throw(env, true, "options.onPacket must be a function");
  if (!GetProperty(env, opts, "onEvent", &onEvent, &t) || t != napi_function) return Throw(env, true, "options.onEvent must be a function");
  for (auto [name, field] : {std::pair<const char*, uint32_t*>{"consentTimeoutMs", &o.consentTimeoutMs}, {"dtlsTimeoutMs", &o.dtlsTimeoutMs}, {"dtlsStateTtlMs", &o.dtlsStateTtlMs}}) {
    if (!GetProperty(env, opts, name, &v, &t)) return nullptr;
    if (t == napi_undefined) continue;
    double ms = 0;
    if (t != napi_number || napi_get_value_double(env, v, &ms) != napi_ok || !(ms > 0 && ms <= 4294967295.0)) {
      return Throw(env, true, std::string("options.") + name + " must be a positive number");
    }
    *field = static_cast<uint32_t>(std::ceil(ms));
  }

  std::string error;
  int err = 0;
  Endpoint* ep = Endpoint::Create(env, o, &error, &err);
  if (ep == nullptr) {
    if (err < 0) return Throw(env, true, error);
    napi_value msg, e;
    napi_create_string_utf8(env, error.c_str(), error.size(), &msg);
    napi_create_error(env, nullptr, msg, &e);
    if (err > 0) {
      const char* code = err == EADDRINUSE ? "EADDRINUSE" : err == EACCES ? "EACCES" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : nullptr;
      if (code != nullptr) {
        napi_value c;
        napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
        napi_set_named_property(env, e, "code", c);
      }
      napi_value n;
      napi_create_int32(env, -err, &n);
      napi_set_named_property(env, e, "errno", n);
    }
    napi_throw(env, e);
    return nullptr;
  }
  ep->Ref();  // the wrapper's
  if (napi_wrap(env, self, ep, FinalizeEndpoint, nullptr, nullptr) != napi_ok) {
    ep->Close();
    return nullptr;
  }
  ep->SetJs(self, onPacket, onEvent, recvBuffer);

  napi_value portValue, fingerprint, sendFn;
  napi_create_uint32(env, static_cast<uint32_t>(ep->port()), &portValue);
  napi_create_string_utf8(env, ep->fingerprint().c_str(), ep->fingerprint().size(), &fingerprint);
  napi_create_function(env, "send", NAPI_AUTO_LENGTH, Send, ep, &sendFn);
  ep->Ref();  // the send function's
  napi_add_finalizer(env, sendFn, ep, FinalizeEndpoint, nullptr, nullptr);
  napi_property_descriptor props[] = {
      {"port", nullptr, nullptr, nullptr, nullptr, portValue, napi_enumerable, nullptr},
      {"fingerprint", nullptr, nullptr, nullptr, nullptr, fingerprint, napi_enumerable, nullptr},
      {"send", nullptr, nullptr, nullptr, nullptr, sendFn, napi_default, nullptr},
  };
  napi_define_properties(env, self, sizeof props / sizeof props[0], props);
  return self;
}

napi_value CreateConnection(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  Endpoint* ep = Unwrap(env, info, &argc, argv);
  if (ep == nullptr) return nullptr;
  std::string ufrag, pwd, algorithm, fingerprint, role;
  napi_valuetype t;
  auto str = [&](size_t i, std::string* out) { return argc > i && napi_typeof(env, argv[i], &t) == napi_ok && t == napi_string && GetString(env, argv[i], out); };
  if (!str(0, &ufrag) || ufrag.empty() || ufrag.size() > 256 || ufrag.find(':') != std::string::npos) {
    return Throw(env, true, "localUfrag must be a non-empty string without ':'");
  }
  if (!str(1, &pwd) || pwd.empty() || pwd.size() > 256) return Throw(env, true, "localPwd must be a non-empty string");
  if (!str(2, &algorithm)) return Throw(env, true, "remoteFingerprintAlgorithm must be a string");
  const EVP_MD* md = FingerprintDigest(algorithm);
  if (md == nullptr) return Throw(env, true, "unsupported fingerprint algorithm: " + algorithm);
  if (!str(3, &fingerprint)) return Throw(env, true, "remoteFingerprint must be a string");
  uint8_t fp[EVP_MAX_MD_SIZE];
  const size_t fpLen = static_cast<size_t>(EVP_MD_get_size(md));
  if (!ParseFingerprint(fingerprint, fp, fpLen)) return Throw(env, true, "remoteFingerprint is not a " + algorithm + " fingerprint (XX:XX:...)");
  if (!str(4, &role) || (role != "server" && role != "client")) return Throw(env, true, "dtlsRole must be 'server' or 'client'");
  std::string error;
  const uint32_t id = ep->CreateConnection(ufrag, pwd, md, fp, fpLen, role == "client", &error);
  if (id == 0) return Throw(env, !ep->closed(), error);
  napi_value result;
  napi_create_uint32(env, id, &result);
  return result;
}

napi_value CloseConnection(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Endpoint* ep = Unwrap(env, info, &argc, argv);
  if (ep == nullptr) return nullptr;
  uint32_t id;
  if (argc >= 1 && GetId(env, argv[0], &id)) ep->CloseConnection(id);
  return nullptr;
}

const char* StateName(ConnState s) {
  switch (s) {
    case ConnState::kNew:
      return "new";
    case ConnState::kIceConnected:
      return "ice-connected";
    case ConnState::kConnected:
      return "connected";
    case ConnState::kFailed:
      return "failed";
    case ConnState::kClosed:
      return "closed";
  }
  return "new";
}

std::string PathString(const Connection* c) {
  if (c->selected < 0) return "";
  const PeerAddr& a = c->paths[c->selected].addr;
  char ip[INET6_ADDRSTRLEN] = "";
  if (a.u.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &a.u.v4.sin_addr, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(a.u.v4.sin_port));
  }
  if (IN6_IS_ADDR_V4MAPPED(&a.u.v6.sin6_addr)) {
    inet_ntop(AF_INET, a.u.v6.sin6_addr.s6_addr + 12, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(ntohs(a.u.v6.sin6_port));
  }
  inet_ntop(AF_INET6, &a.u.v6.sin6_addr, ip, sizeof ip);
  return "[" + std::string(ip) + "]:" + std::to_string(ntohs(a.u.v6.sin6_port));
}

napi_value GetStats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  Endpoint* ep = Unwrap(env, info, &argc, argv);
  if (ep == nullptr) return nullptr;
  uint32_t id;
  const Connection* c = nullptr;
  if (argc >= 1 && GetId(env, argv[0], &id)) c = ep->Get(id);
  napi_value result;
  if (c == nullptr) {
    napi_get_undefined(env, &result);
    return result;
  }
  napi_create_object(env, &result);
  auto setStr = [&](const char* k, const std::string& s) {
    napi_value v;
    napi_create_string_utf8(env, s.c_str(), s.size(), &v);
    napi_set_named_property(env, result, k, v);
  };
  auto setNum = [&](const char* k, double d) {
    napi_value v;
    napi_create_double(env, d, &v);
    napi_set_named_property(env, result, k, v);
  };
  setStr("state", StateName(c->state));
  setStr("remoteAddress", PathString(c));
  setStr("profile", c->profileName);
  setNum("packetsReceived", c->packetsReceived);
  setNum("bytesReceived", c->bytesReceived);
  setNum("packetsSent", c->packetsSent);
  setNum("bytesSent", c->bytesSent);
  setNum("srtpErrors", c->srtpErrors);
  setNum("stunRequests", c->stunRequests);
  setNum("sendErrors", c->sendErrors);
  napi_value held;
  napi_get_boolean(env, c->ssl != nullptr, &held);
  napi_set_named_property(env, result, "dtlsStateHeld", held);
  return result;
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Endpoint* ep = Unwrap(env, info, &argc, nullptr);
  if (ep != nullptr) ep->Close();
  return nullptr;
}

// Not part of the API: bytes in use in the C heap (glibc mallinfo2), for the memory bench.
napi_value MallocInUse(napi_env env, napi_callback_info /*info*/) {
  const struct mallinfo2 mi = mallinfo2();
  napi_value v;
  napi_create_double(env, static_cast<double>(mi.uordblks + mi.hblkhd), &v);
  return v;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"createConnection", nullptr, CreateConnection, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"closeConnection", nullptr, CloseConnection, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getStats", nullptr, GetStats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_value cls;
  if (napi_define_class(env, "Endpoint", NAPI_AUTO_LENGTH, New, nullptr, sizeof methods / sizeof methods[0], methods, &cls) != napi_ok) return nullptr;
  napi_set_named_property(env, exports, "Endpoint", cls);
  napi_value fn;
  napi_create_function(env, "_mallocInUse", NAPI_AUTO_LENGTH, MallocInUse, nullptr, &fn);
  napi_set_named_property(env, exports, "_mallocInUse", fn);
  const std::pair<const char*, int> constants[] = {
      {"EVENT_ICE_CONNECTED", kEventIceConnected}, {"EVENT_PATH_CHANGED", kEventPathChanged}, {"EVENT_DTLS_CONNECTED", kEventDtlsConnected},
      {"EVENT_FAILED", kEventFailed},               {"EVENT_CLOSED", kEventClosed},
  };
  for (const auto& [name, value] : constants) {
    napi_value v;
    napi_create_int32(env, value, &v);
    napi_set_named_property(env, exports, name, v);
  }
  return exports;
}

}  // namespace
}  // namespace convene

NAPI_MODULE_INIT() { return convene::Init(env, exports); }
