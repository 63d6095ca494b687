#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "stun.h"

namespace convene {

namespace {

AddrKey KeyOf(const PeerAddr& a) {
  AddrKey k;
  if (a.u.sa.sa_family == AF_INET) {
    std::memset(k.ip, 0, 10);
    k.ip[10] = 0xff;
    k.ip[11] = 0xff;
    std::memcpy(k.ip + 12, &a.u.v4.sin_addr, 4);
    k.port = a.u.v4.sin_port;
  } else {
    std::memcpy(k.ip, &a.u.v6.sin6_addr, 16);
    k.port = a.u.v6.sin6_port;
  }
  return k;
}

// "ip:port", "[v6]:port"; a v4-mapped IPv6 address is written as IPv4.
std::string AddrToString(const PeerAddr& a) {
  char ip[INET6_ADDRSTRLEN] = "";
  unsigned port = 0;
  if (a.u.sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &a.u.v4.sin_addr, ip, sizeof ip);
    port = ntohs(a.u.v4.sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  port = ntohs(a.u.v6.sin6_port);
  if (IN6_IS_ADDR_V4MAPPED(&a.u.v6.sin6_addr)) {
    inet_ntop(AF_INET, a.u.v6.sin6_addr.s6_addr + 12, ip, sizeof ip);
    return std::string(ip) + ":" + std::to_string(port);
  }
  inet_ntop(AF_INET6, &a.u.v6.sin6_addr, ip, sizeof ip);
  return "[" + std::string(ip) + "]:" + std::to_string(port);
}

inline bool IsRtcp(const uint8_t* p) { return p[1] >= 192 && p[1] <= 223; }

std::string SslErrorReason() {
  const unsigned long e = ERR_peek_last_error();
  std::string s = "dtls-error";
  if (e != 0) {
    const char* r = ERR_reason_error_string(e);
    if (r != nullptr) {
      s += ": ";
      s += r;
    }
  }
  ERR_clear_error();
  return s;
}

}  // namespace

bool AddrKey::operator==(const AddrKey& o) const { return port == o.port && std::memcmp(ip, o.ip, 16) == 0; }

size_t AddrKeyHash::operator()(const AddrKey& k) const {
  uint64_t a, b;
  std::memcpy(&a, k.ip, 8);
  std::memcpy(&b, k.ip + 8, 8);
  uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b + 0x632be59bd9b4e019ull + (static_cast<uint64_t>(k.port) << 32));
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return static_cast<size_t>(h);
}

Connection::~Connection() {
  if (ssl != nullptr) {
    SSL_free(ssl);
    ERR_clear_error();
  }
  OPENSSL_cleanse(&peerKeys, sizeof peerKeys);
}

// ---------------------------------------------------------------------------------------------------------------
// Setup and teardown

static void AppendDatagram(std::string* out, const uint8_t* data, size_t len) {
  const char prefix[2] = {static_cast<char>(len >> 8), static_cast<char>(len & 0xff)};
  out->append(prefix, 2);
  out->append(reinterpret_cast<const char*>(data), len);
}

static void BioWriteThunk(void* app, const uint8_t* data, size_t len) {
  Connection* c = static_cast<Connection*>(app);
  if (c->captureWrites) {
    c->closeRecord.append(reinterpret_cast<const char*>(data), len);
    return;
  }
  if (c->recordWrites && len <= 0xffff) AppendDatagram(&c->flight, data, len);
  c->ep->DtlsWrite(c, data, len);
}

static int BioReadThunk(void* app, uint8_t* out, size_t cap) {
  Connection* c = static_cast<Connection*>(app);
  if (c->bioIn == nullptr) return -1;
  const size_t n = std::min(cap, c->bioInLen);
  std::memcpy(out, c->bioIn, n);
  c->bioIn = nullptr;
  c->bioInLen = 0;
  return static_cast<int>(n);
}

Endpoint* Endpoint::Create(napi_env env, const Options& options, std::string* error, int* errnoCode) {
  Endpoint* ep = new Endpoint(env);
  if (!ep->Open(options, error, errnoCode)) {
    delete ep;
    return nullptr;
  }
  return ep;
}

bool Endpoint::Open(const Options& o, std::string* error, int* errnoCode) {
  *errnoCode = 0;
  consentTimeoutMs_ = o.consentTimeoutMs;
  dtlsTimeoutMs_ = o.dtlsTimeoutMs;
  dtlsStateTtlMs_ = o.dtlsStateTtlMs;
  recvBuffer_ = o.recvBuffer;
  recvBufferLength_ = o.recvBufferLength;

  PeerAddr bindAddr;
  std::memset(&bindAddr.u, 0, sizeof bindAddr.u);
  if (o.ip.find(':') != std::string::npos) {
    family_ = AF_INET6;
    bindAddr.u.v6.sin6_family = AF_INET6;
    bindAddr.u.v6.sin6_port = htons(static_cast<uint16_t>(o.port));
    if (inet_pton(AF_INET6, o.ip.c_str(), &bindAddr.u.v6.sin6_addr) != 1) {
      *error = "invalid IP address: " + o.ip;
      *errnoCode = -1;
      return false;
    }
    bindAddr.len = sizeof(sockaddr_in6);
  } else {
    family_ = AF_INET;
    bindAddr.u.v4.sin_family = AF_INET;
    bindAddr.u.v4.sin_port = htons(static_cast<uint16_t>(o.port));
    if (inet_pton(AF_INET, o.ip.c_str(), &bindAddr.u.v4.sin_addr) != 1) {
      *error = "invalid IP address: " + o.ip;
      *errnoCode = -1;
      return false;
    }
    bindAddr.len = sizeof(sockaddr_in);
  }

  std::string dtlsError;
  dtls_.reset(DtlsContext::Create(BioWriteThunk, BioReadThunk, VerifyCallback, InfoCallback, &dtlsError));
  if (!dtls_) {
    *error = dtlsError;
    return false;
  }

  fd_ = socket(family_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    *errnoCode = errno;
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (family_ == AF_INET6) {
    int off = 0;
    setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  int bufSize = 4 << 20;  // best effort; the kernel caps it at rmem_max/wmem_max
  setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bufSize, sizeof bufSize);
  setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &bufSize, sizeof bufSize);
  if (bind(fd_, &bindAddr.u.sa, bindAddr.len) != 0) {
    *errnoCode = errno;
    *error = std::string("bind ") + (family_ == AF_INET6 ? "[" + o.ip + "]" : o.ip) + ":" + std::to_string(o.port) + ": " + std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  PeerAddr local;
  local.len = sizeof local.u;
  getsockname(fd_, &local.u.sa, &local.len);
  port_ = ntohs(family_ == AF_INET6 ? local.u.v6.sin6_port : local.u.v4.sin_port);

  // Buffers, allocated once.
  recvSlots_.resize(static_cast<size_t>(kRecvBatch) * kRecvSlot);
  recvMsgs_.resize(kRecvBatch);
  recvIov_.resize(kRecvBatch);
  recvAddrs_.resize(kRecvBatch);
  for (int i = 0; i < kRecvBatch; i++) {
    recvIov_[i].iov_base = recvSlots_.data() + static_cast<size_t>(i) * kRecvSlot;
    recvIov_[i].iov_len = kRecvSlot;
    std::memset(&recvMsgs_[i], 0, sizeof(mmsghdr));
    recvMsgs_[i].msg_hdr.msg_iov = &recvIov_[i];
    recvMsgs_[i].msg_hdr.msg_iovlen = 1;
    recvMsgs_[i].msg_hdr.msg_name = &recvAddrs_[i].u;
  }
  sendSlots_.resize(static_cast<size_t>(kSendSlots) * kSendSlot);
  sendMsgs_.resize(kSendSlots);
  sendIov_.resize(kSendSlots);
  sendAddrs_.resize(kSendSlots);
  sendConns_.resize(kSendSlots);
  for (int i = 0; i < kSendSlots; i++) {
    sendIov_[i].iov_base = sendSlots_.data() + static_cast<size_t>(i) * kSendSlot;
    std::memset(&sendMsgs_[i], 0, sizeof(mmsghdr));
    sendMsgs_[i].msg_hdr.msg_iov = &sendIov_[i];
    sendMsgs_[i].msg_hdr.msg_iovlen = 1;
    sendMsgs_[i].msg_hdr.msg_name = &sendAddrs_[i].u;
  }
  conns_.push_back(nullptr);  // ids start at 1

  if (napi_get_uv_event_loop(env_, &loop_) != napi_ok || loop_ == nullptr) {
    *error = "no event loop";
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  poll_ = new uv_poll_t;
  poll_->data = this;
  if (uv_poll_init(loop_, poll_, fd_) != 0) {
    delete poll_;
    poll_ = nullptr;
    *error = "uv_poll_init failed";
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  refs_++;  // released by the poll handle's close callback
  uv_poll_start(poll_, UV_READABLE, OnPoll);
  timer_ = new uv_timer_t;
  timer_->data = this;
  uv_timer_init(loop_, timer_);
  refs_++;  // released by the timer's close callback
  uv_timer_start(timer_, OnTimer, kTimerMs, kTimerMs);
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_));
  if (napi_add_env_cleanup_hook(env_, OnEnvCleanup, this) == napi_ok) cleanupHook_ = true;
  return true;
}

void Endpoint::SetJs(napi_value self, napi_value onPacket, napi_value onEvent, napi_value recvBuffer) {
  napi_create_reference(env_, self, 1, &selfRef_);
  napi_create_reference(env_, onPacket, 1, &onPacketRef_);
  napi_create_reference(env_, onEvent, 1, &onEventRef_);
  napi_create_reference(env_, recvBuffer, 1, &recvBufferRef_);
  napi_value name;
  napi_create_string_utf8(env_, "ConveneMediaEndpoint", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env_, self, name, &asyncContext_);
}

Endpoint::~Endpoint() {
  for (Connection* c : graveyard_) delete c;
  for (Connection* c : conns_) delete c;
  if (fd_ >= 0) ::close(fd_);
}

void Endpoint::Unref() {
  if (--refs_ == 0) delete this;
}

void Endpoint::OnHandleClosed(uv_handle_t* handle) {
  Endpoint* ep = static_cast<Endpoint*>(handle->data);
  if (handle->type == UV_POLL) {
    delete reinterpret_cast<uv_poll_t*>(handle);
  } else {
    delete reinterpret_cast<uv_timer_t*>(handle);
  }
  ep->Unref();
}

void Endpoint::OnEnvCleanup(void* arg) {
  Endpoint* ep = static_cast<Endpoint*>(arg);
  ep->cleanupHook_ = false;
  if (ep->closed_) return;
  // The environment is going away: release the socket without calling into JS.
  ep->closed_ = true;
  if (ep->poll_ != nullptr) {
    uv_poll_stop(ep->poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(ep->poll_), OnHandleClosed);
    ep->poll_ = nullptr;
  }
  if (ep->timer_ != nullptr) {
    uv_timer_stop(ep->timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(ep->timer_), OnHandleClosed);
    ep->timer_ = nullptr;
  }
  if (ep->fd_ >= 0) {
    ::close(ep->fd_);
    ep->fd_ = -1;
  }
}

void Endpoint::Close() {
  if (closed_) return;
  // Tell every keyed peer, then free everything (deferred while native code is on the stack).
  for (size_t i = 1; i < conns_.size(); i++) {
    Connection* c = conns_[i];
    if (c == nullptr) continue;
    SendCloseNotify(c);
  }
  Flush();
  closed_ = true;
  for (size_t i = 1; i < conns_.size(); i++) {
    if (conns_[i] != nullptr) Destroy(conns_[i]);
  }
  queued_ = 0;
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
    poll_ = nullptr;
  }
  if (timer_ != nullptr) {
    uv_timer_stop(timer_);
    uv_close(reinterpret_cast<uv_handle_t*>(timer_), OnHandleClosed);
    timer_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (cleanupHook_) {
    napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
    cleanupHook_ = false;
  }
  if (depth_ == 0) ReleaseJs();  // else at the end of the dispatch
}

void Endpoint::ReleaseJs() {
  if (asyncContext_ != nullptr) {
    napi_async_destroy(env_, asyncContext_);
    asyncContext_ = nullptr;
  }
  for (napi_ref* r : {&onPacketRef_, &onEventRef_, &recvBufferRef_, &selfRef_}) {
    if (*r != nullptr) {
      napi_delete_reference(env_, *r);
      *r = nullptr;
    }
  }
  recvBuffer_ = nullptr;
  recvBufferLength_ = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Connections

uint32_t Endpoint::CreateConnection(const std::string& ufrag, const std::string& pwd, const EVP_MD* md, const uint8_t* fp, size_t fpLen, bool client,
                                    std::string* error) {
  if (closed_) {
    *error = "endpoint is closed";
    return 0;
  }
  if (byUfrag_.count(std::string_view(ufrag)) != 0) {
    *error = "localUfrag already in use on this endpoint";
    return 0;
  }
  auto* c = new Connection();
  c->ep = this;
  c->ufrag = ufrag;
  c->pwd = pwd;
  c->fpMd = md;
  c->fpLen = static_cast<uint8_t>(fpLen);
  std::memcpy(c->fp, fp, fpLen);
  c->client = client;
  uint32_t id;
  if (!freeIds_.empty()) {
    id = freeIds_.top();
    freeIds_.pop();
    conns_[id] = c;
  } else {
    id = static_cast<uint32_t>(conns_.size());
    conns_.push_back(c);
  }
  c->id = id;
  byUfrag_.emplace(std::string_view(c->ufrag), c);
  return id;
}

const Connection* Endpoint::Get(uint32_t id) const {
  if (id == 0 || id >= conns_.size()) return nullptr;
  return conns_[id];
}

void Endpoint::CloseConnection(uint32_t id) {
  if (id == 0 || id >= conns_.size() || conns_[id] == nullptr) return;
  Connection* c = conns_[id];
  SendCloseNotify(c);
  Destroy(c);
}

void Endpoint::SendCloseNotify(Connection* c) {
  if (!c->handshakeDone || c->state != ConnState::kConnected || fd_ < 0 || c->selected < 0) return;
  if (!c->closeRecord.empty()) {
    SendNow(c->paths[c->selected].addr, reinterpret_cast<const uint8_t*>(c->closeRecord.data()), c->closeRecord.size(), c);
  } else if (c->ssl != nullptr) {
    ERR_clear_error();
    SSL_shutdown(c->ssl);
    ERR_clear_error();
  }
}

void Endpoint::Unmap(Connection* c) {
  for (const auto& p : c->paths) {
    auto it = byAddr_.find(p.key);
    if (it != byAddr_.end() && it->second == c) byAddr_.erase(it);
  }
}

void Endpoint::Destroy(Connection* c) {
  Unmap(c);
  auto it = byUfrag_.find(std::string_view(c->ufrag));
  if (it != byUfrag_.end() && it->second == c) byUfrag_.erase(it);
  conns_[c->id] = nullptr;
  freeIds_.push(c->id);
  c->dead = true;
  if (depth_ > 0) {
    graveyard_.push_back(c);  // a caller up the stack may still hold it
  } else {
    delete c;
  }
}

void Endpoint::Fail(Connection* c, const std::string& reason) { End(c, ConnState::kFailed, kEventFailed, reason); }

void Endpoint::PeerClosed(Connection* c) { End(c, ConnState::kClosed, kEventClosed, "close_notify"); }

// A connection ends (failed, or closed by the peer): keys and DTLS state go, its addresses stop routing, one event.
void Endpoint::End(Connection* c, ConnState state, int event, const std::string& detail) {
  if (c->dead || c->state == ConnState::kFailed || c->state == ConnState::kClosed) return;
  c->state = state;
  c->srtpIn.reset();
  c->srtpOut.reset();
  if (c->ssl != nullptr) {
    SSL_free(c->ssl);
    c->ssl = nullptr;
  }
  std::string().swap(c->flight);
  std::string().swap(c->closeRecord);
  ERR_clear_error();
  Unmap(c);
  EmitEvent(c->id, event, detail);
}

// ---------------------------------------------------------------------------------------------------------------
// Receiving

void Endpoint::OnPoll(uv_poll_t* handle, int status, int events) {
  Endpoint* ep = static_cast<Endpoint*>(handle->data);
  if (ep->closed_ || status < 0 || (events & UV_READABLE) == 0) return;
  ep->BeginDispatch();
  ep->ReadAll();
  ep->EndDispatch();
}

bool Endpoint::RefreshRecvBuffer() {
  recvBufferStale_ = false;
  recvBuffer_ = nullptr;
  recvBufferLength_ = 0;
  if (recvBufferRef_ == nullptr) return false;
  napi_handle_scope scope = nullptr;
  const bool temporary = !scopeOpen_;
  if (temporary && napi_open_handle_scope(env_, &scope) != napi_ok) return false;
  napi_value view = nullptr;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  // A detached buffer reads as length 0 (and no data); a length-tracking view of a resizable one as its length now.
  if (napi_get_reference_value(env_, recvBufferRef_, &view) == napi_ok && view != nullptr &&
      napi_get_typedarray_info(env_, view, &type, &length, &data, nullptr, nullptr) == napi_ok && data != nullptr &&
      (type == napi_uint8_array || type == napi_uint8_clamped_array)) {
    recvBuffer_ = static_cast<uint8_t*>(data);
    recvBufferLength_ = length;
  }
  if (temporary) napi_close_handle_scope(env_, scope);
  return recvBuffer_ != nullptr;
}

void Endpoint::ReadAll() {
  int budget = kRecvBudget;
  while (budget > 0 && !closed_) {
    const int want = std::min(budget, kRecvBatch);
    for (int i = 0; i < want; i++) {
      recvMsgs_[i].msg_hdr.msg_namelen = sizeof(recvAddrs_[i].u);
      recvMsgs_[i].msg_hdr.msg_flags = 0;
    }
    const int n = recvmmsg(fd_, recvMsgs_.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // EAGAIN, or an error queued by ICMP: try again on the next readable event
    }
    if (n == 0) break;
    for (int i = 0; i < n && !closed_; i++) {
      const msghdr& h = recvMsgs_[i].msg_hdr;
      if ((h.msg_flags & MSG_TRUNC) != 0 || recvMsgs_[i].msg_len == 0) continue;
      recvAddrs_[i].len = h.msg_namelen;
      HandleDatagram(static_cast<uint8_t*>(recvIov_[i].iov_base), recvMsgs_[i].msg_len, recvAddrs_[i]);
    }
    budget -= n;
    if (n < want) break;  // drained
  }
}

void Endpoint::HandleDatagram(uint8_t* data, size_t len, const PeerAddr& from) {
  const uint8_t b = data[0];
  if (b <= 3) {
    HandleStun(data, len, from);
  } else if (b >= 20 && b <= 63) {
    HandleDtls(data, len, from);
  } else if (b >= 128 && b <= 191) {
    HandleMedia(data, len, from);
  }
}

void Endpoint::HandleStun(uint8_t* data, size_t len, const PeerAddr& from) {
  StunRequest req;
  if (!StunParseBindingRequest(data, len, &req)) return;
  const std::string_view ufrag = StunLocalUfrag(req.username);
  if (ufrag.empty() || ufrag.size() > kMaxUfrag) return;
  auto it = byUfrag_.find(ufrag);  // no allocation: unknown-ufrag floods cost a parse and a hash
  if (it == byUfrag_.end()) return;
  Connection* c = it->second;
  if (c->state == ConnState::kFailed || c->state == ConnState::kClosed) return;
  if (!StunVerify(data, len, req, c->pwd)) return;  // dropped: no error response to unauthenticated senders
  c->stunRequests++;
  uint8_t out[kStunMaxResponseSize];
  const size_t n = StunWriteBindingSuccess(req, &from.u.sa, c->pwd, out);
  ERR_clear_error();
  if (n > 0) SendNow(from, out, n, c);
  // ICE-CONTROLLED from the peer would be a role conflict; as a lite agent we are always controlled, so answer anyway.
  Validated(c, from, req.useCandidate);
}

void Endpoint::Validated(Connection* c, const PeerAddr& from, bool useCandidate) {
  const uint64_t now = Now();
  const AddrKey key = KeyOf(from);
  c->lastReceived = now;
  int idx = -1;
  for (size_t i = 0; i < c->paths.size(); i++) {
    if (c->paths[i].key == key) {
      idx = static_cast<int>(i);
      break;
    }
  }
  if (idx < 0) {
    if (static_cast<int>(c->paths.size()) >= kMaxPaths) {
      // Forget the least recently seen path that is not the selected one.
      int victim = -1;
      for (size_t i = 0; i < c->paths.size(); i++) {
        if (static_cast<int>(i) == c->selected) continue;
        if (victim < 0 || c->paths[i].lastSeen < c->paths[victim].lastSeen) victim = static_cast<int>(i);
      }
      auto m = byAddr_.find(c->paths[victim].key);
      if (m != byAddr_.end() && m->second == c) byAddr_.erase(m);
      c->paths.erase(c->paths.begin() + victim);
      if (c->selected > victim) c->selected--;
    }
    c->paths.push_back(Connection::Path{key, from, now});
    idx = static_cast<int>(c->paths.size()) - 1;
    auto m = byAddr_.find(key);
    if (m != byAddr_.end() && m->second != c) {
      // The address moved to another connection (a new session from the same transport address).
      Connection* old = m->second;
      for (size_t i = 0; i < old->paths.size(); i++) {
        if (old->paths[i].key == key) {
          if (old->selected == static_cast<int>(i)) {
            old->selected = -1;
          } else if (old->selected > static_cast<int>(i)) {
            old->selected--;
          }
          old->paths.erase(old->paths.begin() + static_cast<long>(i));
          break;
        }
      }
    }
    byAddr_[key] = c;
  }
  Connection::Path& path = c->paths[idx];
  path.addr = from;
  const uint64_t selectedSeen = c->selected >= 0 ? c->paths[c->selected].lastSeen : 0;
  path.lastSeen = now;

  if (c->selected < 0) {
    c->selected = idx;
    const bool first = c->state == ConnState::kNew;
    if (first) {
      c->state = ConnState::kIceConnected;
      c->iceAt = now;
      EmitEvent(c->id, kEventIceConnected, AddrToString(from));
      if (c->dead) return;
      if (c->client && c->ssl == nullptr) StartDtls(c);
    } else {
      EmitEvent(c->id, kEventPathChanged, AddrToString(from));
    }
    return;
  }
  if (idx != c->selected && (useCandidate || now - selectedSeen > kPathStaleMs)) {
    c->selected = idx;
    EmitEvent(c->id, kEventPathChanged, AddrToString(from));
  }
}

void Endpoint::HandleDtls(const uint8_t* data, size_t len, const PeerAddr& from) {
  auto it = byAddr_.find(KeyOf(from));
  if (it == byAddr_.end()) return;
  Connection* c = it->second;
  if (c->state != ConnState::kIceConnected && c->state != ConnState::kConnected) return;
  if (c->ssl == nullptr && c->handshakeDone) {
    DtlsAfterRelease(c, data, len);  // parses only what it authenticates (alerts) or counts (handshake records)
    return;
  }
  // Anyone who can spoof the peer's address can send here: give OpenSSL only well-formed records (see dtls.h).
  int epoch1 = 0;
  if (!DtlsDatagramPlausible(c->ssl, data, len, &epoch1)) return;
  if (!c->handshakeDone && epoch1 > 0) {
    // Until the peer's ChangeCipherSpec is read, OpenSSL keeps each epoch-1 record with a whole read buffer
    // (~17 KB; up to 100 of them). An honest peer sends one (its Finished) per flight, and rarely retransmits.
    if (c->earlyEpoch1 + epoch1 > kMaxEarlyEpoch1Records) return;
    c->earlyEpoch1 = static_cast<uint8_t>(c->earlyEpoch1 + epoch1);
  }
  // Consent is refreshed by STUN and SRTP; DTLS only counts while the handshake runs.
  if (!c->handshakeDone) c->lastReceived = Now();
  if (c->ssl == nullptr) {
    if (c->client || !DtlsIsClientHello(data, len)) return;  // a server SSL (~80 KB) only for a ClientHello
    StartDtls(c);
    if (c->ssl == nullptr) return;
  }
  c->bioIn = data;
  c->bioInLen = len;
  if (c->handshakeDone) {
    ReadDtls(c);
  } else {
    DriveHandshake(c);
  }
  if (!c->dead) {
    c->bioIn = nullptr;
    c->bioInLen = 0;
  }
}

void Endpoint::StartDtls(Connection* c) {
  c->ssl = dtls_->NewSsl(c, c->client);
  if (c->ssl == nullptr) {
    Fail(c, "dtls-init");
    return;
  }
  if (c->client) DriveHandshake(c);  // ClientHello
}

void Endpoint::DriveHandshake(Connection* c) {
  ERR_clear_error();
  // As the server, what we write in the call that completes the handshake is our final flight: kept to answer
  // a retransmitted client flight once the SSL is freed.
  c->flight.clear();
  c->recordWrites = !c->client;
  const int r = SSL_do_handshake(c->ssl);
  c->recordWrites = false;
  if (r == 1) {
    ERR_clear_error();
    c->flight.shrink_to_fit();
    HandshakeDone(c);
    return;
  }
  c->flight.clear();
  const int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return;
  }
  std::string reason;
  if (c->fpMismatch) {
    reason = "fingerprint-mismatch";
  } else if (!c->alert.empty()) {
    reason = "dtls-alert: " + c->alert;
  } else {
    reason = SslErrorReason();
  }
  ERR_clear_error();
  Fail(c, reason);
}

void Endpoint::ReadDtls(Connection* c) {
  for (int i = 0; i < 8; i++) {
    ERR_clear_error();
    const int r = SSL_read(c->ssl, dtlsScratch_, sizeof dtlsScratch_);
    if (r > 0) continue;  // application data: not used by WebRTC media
    const int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      PeerClosed(c);
      return;
    }
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      return;
    }
    Fail(c, c->alert.empty() ? SslErrorReason() : "dtls-alert: " + c->alert);
    return;
  }
}

void Endpoint::HandshakeDone(Connection* c) {
  if (!c->fpVerified || c->fpMismatch) {
    Fail(c, c->fpMismatch ? "fingerprint-mismatch" : "no-peer-certificate");
    return;
  }
  const SRTP_PROTECTION_PROFILE* sp = SSL_get_selected_srtp_profile(c->ssl);
  if (sp == nullptr) {
    Fail(c, "no-srtp-profile");
    return;
  }
  const auto profile = static_cast<SrtpProfile>(sp->id);
  size_t keyLen = 0, saltLen = 0;
  if (!SrtpKeyLengths(profile, &keyLen, &saltLen) || keyLen > 32 || saltLen > 14) {
    Fail(c, std::string("unsupported-srtp-profile: ") + (sp->name ? sp->name : "?"));
    return;
  }
  uint8_t km[2 * (32 + 14)];
  const size_t kmLen = 2 * (keyLen + saltLen);
  static const char kLabel[] = "EXTRACTOR-dtls_srtp";
  if (SSL_export_keying_material(c->ssl, km, kmLen, kLabel, sizeof kLabel - 1, nullptr, 0, 0) != 1) {
    ERR_clear_error();
    Fail(c, "keying-material");
    return;
  }
  const uint8_t* clientKey = km;
  const uint8_t* serverKey = km + keyLen;
  const uint8_t* clientSalt = km + 2 * keyLen;
  const uint8_t* serverSalt = clientSalt + saltLen;
  auto out = std::make_unique<SrtpSession>();
  auto in = std::make_unique<SrtpSession>();
  const bool ok = out->Init(profile, c->client ? clientKey : serverKey, keyLen, c->client ? clientSalt : serverSalt, saltLen) &&
                  in->Init(profile, c->client ? serverKey : clientKey, keyLen, c->client ? serverSalt : clientSalt, saltLen);
  OPENSSL_cleanse(km, sizeof km);
  ERR_clear_error();
  if (!ok) {
    Fail(c, "srtp-init");
    return;
  }
  c->srtpOut = std::move(out);
  c->srtpIn = std::move(in);
  c->handshakeDone = true;
  c->state = ConnState::kConnected;
  c->connectedAt = Now();
  c->sslReleaseAt = c->connectedAt + dtlsStateTtlMs_;
  const char* name = SrtpProfileName(profile);
  c->profileName = name != nullptr ? name : sp->name;
  EmitEvent(c->id, kEventDtlsConnected, c->profileName);
}

void Endpoint::ReleaseSsl(Connection* c) {
  // A connected SSL holds ~75 KB (record buffers, the handshake buffer DTLS keeps for retransmissions, contexts,
  // the peer's certificate). Once the peer can no longer need the handshake, keep only what is used later:
  // our final flight (above), our close_notify protected in advance, and the peer's record keys for its alerts.
  c->sslReleased = true;
  DtlsGcmKeys clientKeys, serverKeys;
  if (!DtlsDeriveGcmKeys(c->ssl, &clientKeys, &serverKeys)) return;  // not AES-GCM: keep the SSL
  const DtlsGcmKeys& mine = c->client ? clientKeys : serverKeys;
  c->closeRecord.clear();
  c->captureWrites = true;
  ERR_clear_error();
  SSL_shutdown(c->ssl);
  ERR_clear_error();
  c->captureWrites = false;
  // Self-check of the derived keys: our own close_notify must open with our write keys.
  uint8_t alert[2];
  size_t recordLen = 0;
  const bool ok = DtlsGcmOpen(mine, reinterpret_cast<const uint8_t*>(c->closeRecord.data()), c->closeRecord.size(), alert, sizeof alert, &recordLen) == 2 &&
                  alert[0] == 1 && alert[1] == 0;
  if (ok) {
    c->peerKeys = c->client ? serverKeys : clientKeys;
    sslReleases_++;
    SSL_free(c->ssl);
    c->ssl = nullptr;
    ERR_clear_error();
  }
  // Else the SSL stays (it has sent nothing: the close_notify it wrote is kept for closeConnection).
  OPENSSL_cleanse(&clientKeys, sizeof clientKeys);
  OPENSSL_cleanse(&serverKeys, sizeof serverKeys);
}

void Endpoint::DtlsAfterRelease(Connection* c, const uint8_t* data, size_t len) {
  bool resend = false;
  size_t off = 0;
  while (off + 13 <= len) {
    const uint8_t* rec = data + off;
    const size_t recordLen = 13 + ((static_cast<size_t>(rec[11]) << 8) | rec[12]);
    if (off + recordLen > len) break;
    const uint8_t type = rec[0];
    const unsigned epoch = (static_cast<unsigned>(rec[3]) << 8) | rec[4];
    if (type == 21 && epoch >= 1 && c->peerKeys.keyLen != 0) {
      uint8_t alert[2];
      size_t n = 0;
      if (DtlsGcmOpen(c->peerKeys, rec, recordLen, alert, sizeof alert, &n) == 2) {
        if (alert[1] == 0) {
          PeerClosed(c);
          return;
        }
        if (alert[0] == 2) {
          Fail(c, std::string("dtls-alert: ") + SSL_alert_desc_string_long(alert[1]));
          return;
        }
      }
    } else if (type == 22 || type == 20) {
      resend = true;  // the peer did not get our final flight
    }
    off += recordLen;
  }
  const uint64_t now = Now();
  if (resend && !c->client && !c->flight.empty() && c->selected >= 0 && now - c->lastFlightResend >= 250) {
    c->lastFlightResend = now;
    const auto* f = reinterpret_cast<const uint8_t*>(c->flight.data());
    for (size_t p = 0; p + 2 <= c->flight.size();) {
      const size_t n = (static_cast<size_t>(f[p]) << 8) | f[p + 1];
      if (p + 2 + n > c->flight.size()) break;
      SendNow(c->paths[c->selected].addr, f + p + 2, n, c);
      p += 2 + n;
    }
  }
}

int Endpoint::VerifyCallback(int /*preverifyOk*/, X509_STORE_CTX* store) {
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  Connection* c = ssl != nullptr ? static_cast<Connection*>(SSL_get_app_data(ssl)) : nullptr;
  if (c == nullptr) return 0;
  // Self-signed certificates are the rule in WebRTC: only the leaf's digest, given in the SDP, matters.
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  uint8_t md[EVP_MAX_MD_SIZE];
  unsigned int mdLen = 0;
  if (cert == nullptr || c->fpMd == nullptr || X509_digest(cert, c->fpMd, md, &mdLen) != 1 || mdLen != c->fpLen ||
      CRYPTO_memcmp(md, c->fp, mdLen) != 0) {
    c->fpMismatch = true;
    c->fpVerified = false;
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REJECTED);
    return 0;
  }
  if (!c->fpMismatch) c->fpVerified = true;
  X509_STORE_CTX_set_error(store, X509_V_OK);
  return 1;
}

void Endpoint::InfoCallback(const SSL* ssl, int where, int ret) {
  if ((where & SSL_CB_ALERT) == 0 || (where & SSL_CB_READ) == 0) return;
  Connection* c = static_cast<Connection*>(SSL_get_app_data(ssl));
  if (c != nullptr) c->alert = SSL_alert_desc_string_long(ret);
}

void Endpoint::HandleMedia(const uint8_t* data, size_t len, const PeerAddr& from) {
  auto it = byAddr_.find(KeyOf(from));
  if (it == byAddr_.end()) return;
  Connection* c = it->second;
  if (c->state != ConnState::kConnected || !c->srtpIn || len < 8) return;
  if (recvBufferStale_) RefreshRecvBuffer();
  if (recvBuffer_ == nullptr || len > recvBufferLength_) return;
  std::memcpy(recvBuffer_, data, len);
  const int n = IsRtcp(data) ? c->srtpIn->UnprotectRtcp(recvBuffer_, static_cast<int>(len)) : c->srtpIn->UnprotectRtp(recvBuffer_, static_cast<int>(len));
  if (n < 0) {
    c->srtpErrors++;
    return;
  }
  c->packetsReceived++;
  c->bytesReceived += static_cast<double>(len);
  c->lastReceived = Now();
  EmitPacket(c->id, static_cast<uint32_t>(n));
  if (queued_ > 0) Flush();
}

// ---------------------------------------------------------------------------------------------------------------
// Timer: DTLS retransmissions, DTLS and consent timeouts

void Endpoint::OnTimer(uv_timer_t* handle) {
  Endpoint* ep = static_cast<Endpoint*>(handle->data);
  if (ep->closed_) return;
  ep->BeginDispatch();
  ep->Tick();
  ep->EndDispatch();
}

void Endpoint::Tick() {
  const uint64_t now = Now();
  const size_t releasedBefore = sslReleases_;
  for (size_t i = 1; i < conns_.size() && !closed_; i++) {
    Connection* c = conns_[i];
    if (c == nullptr) continue;
    if (c->state == ConnState::kIceConnected) {
      if (c->ssl != nullptr) {
        ERR_clear_error();
        const int r = DTLSv1_handle_timeout(c->ssl);
        ERR_clear_error();
        if (r < 0) {
          Fail(c, "dtls-timeout");
          continue;
        }
      }
      if (now - c->iceAt >= dtlsTimeoutMs_) {
        Fail(c, "dtls-timeout");
        continue;
      }
    }
    if ((c->state == ConnState::kIceConnected || c->state == ConnState::kConnected) && now - c->lastReceived >= consentTimeoutMs_) {
      Fail(c, "timeout");
      continue;
    }
    if (c->state == ConnState::kConnected && c->ssl != nullptr && !c->sslReleased && now >= c->sslReleaseAt) ReleaseSsl(c);
  }
  // Freed SSL objects leave ~75 KB holes each in the C heap: give whole free pages back to the OS now and then.
  if (sslReleases_ != releasedBefore) trimPending_ = true;
  if (trimPending_ && now - lastTrim_ >= kTrimIntervalMs) {
    trimPending_ = false;
    lastTrim_ = now;
    malloc_trim(0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Sending

void Endpoint::DtlsWrite(Connection* c, const uint8_t* data, size_t len) {
  if (c->selected < 0 || fd_ < 0) return;
  SendNow(c->paths[c->selected].addr, data, len, c);
}

void Endpoint::SendNow(const PeerAddr& to, const uint8_t* data, size_t len, Connection* c) {
  if (fd_ < 0) return;
  ssize_t r;
  do {
    r = sendto(fd_, data, len, 0, &to.u.sa, to.len);
  } while (r < 0 && errno == EINTR);
  if (r < 0 && c != nullptr) c->sendErrors++;
}

bool Endpoint::Send(uint32_t id, const uint8_t* data, size_t len) {
  if (id >= conns_.size()) return false;
  Connection* c = conns_[id];  // [0] is always null
  if (c == nullptr || c->state != ConnState::kConnected || c->selected < 0 || fd_ < 0) return false;
  if (len < 8 || len > static_cast<size_t>(kMaxPlain) || (data[0] >> 6) != 2) return false;
  const bool rtcp = IsRtcp(data);
  const PeerAddr& to = c->paths[c->selected].addr;
  if (batching_) {
    if (queued_ == kSendSlots) Flush();
    const int q = queued_;
    uint8_t* buf = static_cast<uint8_t*>(sendIov_[q].iov_base);
    std::memcpy(buf, data, len);
    const int n = rtcp ? c->srtpOut->ProtectRtcp(buf, static_cast<int>(len), kSendSlot) : c->srtpOut->ProtectRtp(buf, static_cast<int>(len), kSendSlot);
    if (n < 0) return false;
    sendIov_[q].iov_len = static_cast<size_t>(n);
    sendAddrs_[q] = to;
    sendMsgs_[q].msg_hdr.msg_namelen = to.len;
    sendConns_[q] = c;
    queued_ = q + 1;
    c->packetsSent++;
    c->bytesSent += n;
    return true;
  }
  std::memcpy(scratch_, data, len);
  const int n = rtcp ? c->srtpOut->ProtectRtcp(scratch_, static_cast<int>(len), kSendSlot) : c->srtpOut->ProtectRtp(scratch_, static_cast<int>(len), kSendSlot);
  if (n < 0) return false;
  c->packetsSent++;
  c->bytesSent += n;
  SendNow(to, scratch_, static_cast<size_t>(n), c);
  return true;
}

void Endpoint::Flush() {
  if (queued_ == 0) return;
  if (fd_ < 0) {
    queued_ = 0;
    return;
  }
  int sent = 0;
  while (sent < queued_) {
    const int r = sendmmsg(fd_, sendMsgs_.data() + sent, static_cast<unsigned>(queued_ - sent), 0);
    if (r > 0) {
      sent += r;
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    // The message at `sent` failed (EAGAIN, ENOBUFS, unreachable...): drop it, as the network would, and go on.
    sendConns_[sent]->sendErrors++;
    sent++;
  }
  queued_ = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Calling JS

void Endpoint::BeginDispatch() {
  depth_++;
  recvBufferStale_ = true;  // JS ran since the last dispatch
  batching_ = true;
}

void Endpoint::EndDispatch() {
  if (depth_ > 1) {
    depth_--;
    return;
  }
  Flush();
  if (scopeOpen_) {
    scopeOpen_ = false;
    // Runs process.nextTick callbacks and microtasks; their send()s are still batched.
    napi_close_callback_scope(env_, callbackScope_);
    napi_close_handle_scope(env_, handleScope_);
    callbackScope_ = nullptr;
    handleScope_ = nullptr;
    Flush();
  }
  batching_ = false;
  depth_ = 0;
  for (Connection* c : graveyard_) delete c;
  graveyard_.clear();
  if (closed_) ReleaseJs();
}

void Endpoint::EnsureScope() {
  if (scopeOpen_) return;
  napi_open_handle_scope(env_, &handleScope_);
  napi_value resource = nullptr;
  if (selfRef_ != nullptr) napi_get_reference_value(env_, selfRef_, &resource);
  if (resource == nullptr) napi_create_object(env_, &resource);
  napi_open_callback_scope(env_, resource, asyncContext_, &callbackScope_);
  onPacketFn_ = nullptr;
  onEventFn_ = nullptr;
  if (onPacketRef_ != nullptr) napi_get_reference_value(env_, onPacketRef_, &onPacketFn_);
  if (onEventRef_ != nullptr) napi_get_reference_value(env_, onEventRef_, &onEventFn_);
  napi_get_undefined(env_, &undefined_);
  scopeOpen_ = true;
}

void Endpoint::CallJs(napi_value fn, size_t argc, napi_value* argv) {
  napi_value result;
  const napi_status status = napi_call_function(env_, undefined_, fn, argc, argv, &result);
  recvBufferStale_ = true;  // the callback may have detached or resized the receive buffer
  if (status == napi_ok) return;
  bool pending = false;
  napi_is_exception_pending(env_, &pending);
  if (pending) {
    napi_value err;
    napi_get_and_clear_last_exception(env_, &err);
    napi_fatal_exception(env_, err);  // → process 'uncaughtException'; we carry on
  }
}

void Endpoint::EmitPacket(uint32_t id, uint32_t len) {
  if (closed_) return;
  EnsureScope();
  if (onPacketFn_ == nullptr) return;
  napi_value argv[2];
  napi_create_uint32(env_, id, &argv[0]);
  napi_create_uint32(env_, len, &argv[1]);
  CallJs(onPacketFn_, 2, argv);
}

void Endpoint::EmitEvent(uint32_t id, int event, const std::string& detail) {
  if (closed_) return;
  EnsureScope();
  if (onEventFn_ == nullptr) return;
  napi_value argv[3];
  napi_create_uint32(env_, id, &argv[0]);
  napi_create_int32(env_, event, &argv[1]);
  napi_create_string_utf8(env_, detail.data(), detail.size(), &argv[2]);
  CallJs(onEventFn_, 3, argv);
}

}  // namespace convene
