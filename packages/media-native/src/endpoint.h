// One UDP socket serving many WebRTC connections: ICE-lite (STUN Binding responses), DTLS-SRTP key exchange and
// SRTP/SRTCP, read on the JS thread through a uv_poll, with decrypted packets and events delivered to JS.
#pragma once

#include <js_native_api.h>
#include <netinet/in.h>
#include <node_api.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dtls.h"
#include "srtp.h"

namespace convene {

enum EventCode : int {
  kEventIceConnected = 1,
  kEventPathChanged = 2,
  kEventDtlsConnected = 3,
  kEventFailed = 4,
  kEventClosed = 5,
};

enum class ConnState : uint8_t { kNew, kIceConnected, kConnected, kFailed, kClosed };

// A peer's transport address as our socket sees it (sockaddr_in on an IPv4 socket, sockaddr_in6 on IPv6).
struct PeerAddr {
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } u;
  socklen_t len = 0;
};

// Family-independent key of an address: IPv4 as v4-mapped IPv6, plus the port.
struct AddrKey {
  uint8_t ip[16];
  uint16_t port;
  bool operator==(const AddrKey& o) const;
};
struct AddrKeyHash {
  size_t operator()(const AddrKey& k) const;
};

class Endpoint;

struct Connection {
  struct Path {
    AddrKey key;
    PeerAddr addr;
    uint64_t lastSeen;  // last valid STUN request, loop ms
  };

  Endpoint* ep = nullptr;
  uint32_t id = 0;
  bool dead = false;  // closed by JS; kept until the native call stack unwinds
  bool client = false;
  ConnState state = ConnState::kNew;
  bool handshakeDone = false;
  bool fpVerified = false;
  bool fpMismatch = false;
  uint8_t earlyEpoch1 = 0;  // epoch-1 records given to OpenSSL before the handshake completed (see HandleDtls)
  uint8_t fpLen = 0;
  const EVP_MD* fpMd = nullptr;
  uint8_t fp[EVP_MAX_MD_SIZE];
  std::string ufrag;
  std::string pwd;
  std::string alert;  // description of a received alert
  SSL* ssl = nullptr;
  // The received datagram the SSL is processing (read by the BIO once).
  const uint8_t* bioIn = nullptr;
  size_t bioInLen = 0;
  std::unique_ptr<SrtpSession> srtpIn;
  std::unique_ptr<SrtpSession> srtpOut;
  const char* profileName = "";
  // After the handshake: the SSL is freed `dtlsStateTtlMs` later (ReleaseSsl); what is kept instead:
  uint64_t sslReleaseAt = 0;
  bool sslReleased = false;     // ReleaseSsl ran (whether or not it could free the SSL)
  bool recordWrites = false;    // written datagrams are also appended to `flight`
  bool captureWrites = false;   // written datagrams go to `closeRecord` instead of the network
  std::string flight;           // server: our final flight ([u16 length][datagram]...), resent on a retransmitted client flight
  std::string closeRecord;      // our close_notify, protected in advance, sent by closeConnection
  DtlsGcmKeys peerKeys;         // the peer's epoch-1 record keys, to authenticate its alerts
  uint64_t lastFlightResend = 0;
  std::vector<Path> paths;
  int selected = -1;
  uint64_t iceAt = 0;         // first valid STUN request
  uint64_t lastReceived = 0;  // last valid packet of any kind
  uint64_t connectedAt = 0;
  // Counters.
  double packetsReceived = 0, bytesReceived = 0, packetsSent = 0, bytesSent = 0;
  double srtpErrors = 0, stunRequests = 0, sendErrors = 0;

  ~Connection();
};

class Endpoint {
 public:
  struct Options {
    std::string ip;
    int port = 0;
    uint8_t* recvBuffer = nullptr;
    size_t recvBufferLength = 0;
    uint32_t consentTimeoutMs = 30000;
    uint32_t dtlsTimeoutMs = 15000;
    uint32_t dtlsStateTtlMs = 5000;
  };

  // Creates the endpoint; on failure returns nullptr with `error` (and `errnoCode`, 0 when not a system error).
  static Endpoint* Create(napi_env env, const Options& options, std::string* error, int* errnoCode);

  // JS references: the wrapper object (async resource, kept alive while open), callbacks, receive buffer.
  void SetJs(napi_value self, napi_value onPacket, napi_value onEvent, napi_value recvBuffer);

  int port() const { return port_; }
  const std::string& fingerprint() const { return dtls_->fingerprint(); }
  bool closed() const { return closed_; }

  // Returns the id, or 0 with `error` set.
  uint32_t CreateConnection(const std::string& ufrag, const std::string& pwd, const EVP_MD* md, const uint8_t* fp, size_t fpLen, bool client, std::string* error);
  bool Send(uint32_t id, const uint8_t* data, size_t len);
  void CloseConnection(uint32_t id);
  const Connection* Get(uint32_t id) const;
  void Close();

  // Reference counting of the native object: the JS wrapper and the per-instance `send` function hold one each.
  void Ref() { refs_++; }
  void Unref();

  // Used by the DTLS BIO.
  void DtlsWrite(Connection* c, const uint8_t* data, size_t len);
  static int VerifyCallback(int ok, X509_STORE_CTX* store);
  static void InfoCallback(const SSL* ssl, int where, int ret);

 private:
  static constexpr int kRecvBatch = 32;
  static constexpr int kRecvSlot = 2048;
  static constexpr int kRecvBudget = 256;  // packets per poll callback
  static constexpr int kSendSlots = 64;
  static constexpr int kSendSlot = 1536;
  static constexpr int kMaxPlain = kSendSlot - kSrtpMaxTrailer;
  static constexpr int kMaxPaths = 8;      // validated addresses per connection (the least recently seen goes)
  static constexpr size_t kMaxUfrag = 256;  // as createConnection accepts
  static constexpr int kMaxEarlyEpoch1Records = 8;
  static constexpr uint64_t kPathStaleMs = 8000;
  static constexpr int kTimerMs = 50;
  static constexpr uint64_t kTrimIntervalMs = 1000;

  Endpoint(napi_env env) : env_(env) {}
  ~Endpoint();
  bool Open(const Options& options, std::string* error, int* errnoCode);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnTimer(uv_timer_t* handle);
  static void OnHandleClosed(uv_handle_t* handle);
  static void OnEnvCleanup(void* arg);
  void ReleaseJs();

  bool RefreshRecvBuffer();
  void ReadAll();
  void Tick();
  void HandleDatagram(uint8_t* data, size_t len, const PeerAddr& from);
  void HandleStun(uint8_t* data, size_t len, const PeerAddr& from);
  void HandleDtls(const uint8_t* data, size_t len, const PeerAddr& from);
  void HandleMedia(const uint8_t* data, size_t len, const PeerAddr& from);
  void Validated(Connection* c, const PeerAddr& from, bool useCandidate);
  void StartDtls(Connection* c);
  void DriveHandshake(Connection* c);
  void ReadDtls(Connection* c);
  void DtlsAfterRelease(Connection* c, const uint8_t* data, size_t len);
  void ReleaseSsl(Connection* c);
  void SendCloseNotify(Connection* c);
  void HandshakeDone(Connection* c);
  void Fail(Connection* c, const std::string& reason);
  void PeerClosed(Connection* c);
  void End(Connection* c, ConnState state, int event, const std::string& detail);
  void Unmap(Connection* c);
  void Destroy(Connection* c);

  void SendNow(const PeerAddr& to, const uint8_t* data, size_t len, Connection* c);
  void Flush();

  void BeginDispatch();
  void EndDispatch();
  void EnsureScope();
  void EmitPacket(uint32_t id, uint32_t len);
  void EmitEvent(uint32_t id, int event, const std::string& detail);
  void CallJs(napi_value fn, size_t argc, napi_value* argv);

  uint64_t Now() const { return uv_now(loop_); }

  napi_env env_;
  uv_loop_t* loop_ = nullptr;
  int fd_ = -1;
  int family_ = AF_INET;
  int port_ = 0;
  bool closed_ = false;
  int refs_ = 0;
  uv_poll_t* poll_ = nullptr;
  uv_timer_t* timer_ = nullptr;
  bool cleanupHook_ = false;
  std::unique_ptr<DtlsContext> dtls_;
  uint32_t consentTimeoutMs_ = 30000;
  uint32_t dtlsTimeoutMs_ = 15000;
  uint32_t dtlsStateTtlMs_ = 5000;
  size_t sslReleases_ = 0;
  bool trimPending_ = false;
  uint64_t lastTrim_ = 0;

  // JS side.
  napi_ref selfRef_ = nullptr;
  napi_ref onPacketRef_ = nullptr;
  napi_ref onEventRef_ = nullptr;
  napi_ref recvBufferRef_ = nullptr;
  napi_async_context asyncContext_ = nullptr;
  // The receive buffer's memory, re-read from the JS view whenever JS may have run since (it can be detached or,
  // resizable, shrunk): `recvBufferStale_`, set on entry from the event loop and after each callback.
  uint8_t* recvBuffer_ = nullptr;
  size_t recvBufferLength_ = 0;
  bool recvBufferStale_ = true;
  // Valid while a dispatch scope is open.
  bool scopeOpen_ = false;
  napi_handle_scope handleScope_ = nullptr;
  napi_callback_scope callbackScope_ = nullptr;
  napi_value onPacketFn_ = nullptr;
  napi_value onEventFn_ = nullptr;
  napi_value undefined_ = nullptr;

  // Connections.
  std::vector<Connection*> conns_;  // by id; [0] unused
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<uint32_t>> freeIds_;
  // Keys view each Connection's own `ufrag` (never modified): looking up a received USERNAME allocates nothing.
  std::unordered_map<std::string_view, Connection*> byUfrag_;
  std::unordered_map<AddrKey, Connection*, AddrKeyHash> byAddr_;
  std::vector<Connection*> graveyard_;
  int depth_ = 0;  // native dispatch depth (poll or timer callback)

  // Receive batch.
  std::vector<uint8_t> recvSlots_;
  std::vector<mmsghdr> recvMsgs_;
  std::vector<iovec> recvIov_;
  std::vector<PeerAddr> recvAddrs_;

  // Send queue (batched while dispatching) and the scratch buffer for immediate sends.
  bool batching_ = false;
  int queued_ = 0;
  std::vector<uint8_t> sendSlots_;
  std::vector<mmsghdr> sendMsgs_;
  std::vector<iovec> sendIov_;
  std::vector<PeerAddr> sendAddrs_;
  std::vector<Connection*> sendConns_;  // for error counters (kept alive by the graveyard until the flush)
  uint8_t scratch_[kSendSlot];
  uint8_t dtlsScratch_[2048];
};

}  // namespace convene
