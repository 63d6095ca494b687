// The DTLS side shared by every connection of an Endpoint: one SSL_CTX with a fresh self-signed ECDSA P-256
// certificate, DTLS-SRTP profiles, and a datagram BIO method that hands each record flight to the endpoint.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace convene {

// Server preference order (RFC 7714 GCM first).
constexpr const char* kSrtpProfiles = "SRTP_AEAD_AES_128_GCM:SRTP_AEAD_AES_256_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32";
constexpr int kDtlsMtu = 1200;

// Callbacks of the BIO, `app` being what was given to DtlsContext::NewSsl.
// Write: one datagram to send (a failure drops it, as UDP would).
using DtlsWriteFn = void (*)(void* app, const uint8_t* data, size_t len);
// Read: copies the received datagram being processed (at most `cap` bytes); its length, or -1 when none.
using DtlsReadFn = int (*)(void* app, uint8_t* out, size_t cap);

class DtlsContext {
 public:
  // Creates the SSL_CTX and certificate; on failure returns nullptr and sets `error`.
  static DtlsContext* Create(DtlsWriteFn write, DtlsReadFn read, SSL_verify_cb verify, void (*info)(const SSL*, int, int), std::string* error);
  ~DtlsContext();
  DtlsContext(const DtlsContext&) = delete;
  DtlsContext& operator=(const DtlsContext&) = delete;

  SSL_CTX* ctx() const { return ctx_; }
  // "AB:CD:..." sha-256 of our certificate.
  const std::string& fingerprint() const { return fingerprint_; }
  // A new SSL in the given role over a BIO that calls back with `app`; SSL_set_app_data(ssl, app).
  SSL* NewSsl(void* app, bool client);

 private:
  DtlsContext() = default;
  static int BioWrite(BIO* bio, const char* data, int len);
  static int BioRead(BIO* bio, char* out, int cap);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);
  static int BioCreate(BIO* bio);
  static int BioDestroy(BIO* bio);

  SSL_CTX* ctx_ = nullptr;
  BIO_METHOD* bioMethod_ = nullptr;
  std::string fingerprint_;
};

// The epoch-1 record protection of one direction of a DTLS 1.2 connection with an AES-GCM cipher suite
// (RFC 5288): enough to authenticate an alert once the SSL object itself has been freed.
struct DtlsGcmKeys {
  uint8_t key[32];
  uint8_t salt[4];  // implicit nonce part (client_write_IV / server_write_IV)
  uint8_t keyLen = 0;
};

// Derives both directions' keys from the session's master secret (the TLS 1.2 key expansion). False when the
// negotiated cipher is not AES-GCM or the derivation failed.
bool DtlsDeriveGcmKeys(SSL* ssl, DtlsGcmKeys* client, DtlsGcmKeys* server);

// Decrypts and authenticates the first DTLS 1.2 record of `rec` (header included) with `keys`. Returns the
// plaintext length written to `out` (cap bytes), or -1. `recordLen` receives the record's total length.
int DtlsGcmOpen(const DtlsGcmKeys& keys, const uint8_t* rec, size_t len, uint8_t* out, size_t cap, size_t* recordLen);

// The largest handshake message we let OpenSSL reassemble. WebRTC's are small (a ClientHello or a one-certificate
// Certificate is ~0.5-2 KB); OpenSSL's own limit is 100 KB (max_cert_list) for each of up to 10 messages ahead.
constexpr uint32_t kDtlsMaxHandshakeMessage = 8192;

// Whether every record of a received datagram is one an honest DTLS 1.2 peer could send us: whole records
// (nothing left over), content type 20..23, DTLS version, epoch 0 or 1 (no renegotiation), epoch-1 records at
// least as long as the cipher's overhead (explicit nonce and tag; IV, MAC and padding for CBC; the largest AEAD
// overhead before a cipher is negotiated), and epoch-0 handshake fragments of messages of at most
// kDtlsMaxHandshakeMessage bytes. `ssl` may be null. `epoch1Records` (optional) receives the number of epoch-1
// records. OpenSSL 3.0 treats some of these (an epoch-1 AES-GCM record shorter than 24 bytes) as a fatal internal
// error and sends an alert: one spoofed datagram would kill an established connection.
bool DtlsDatagramPlausible(const SSL* ssl, const uint8_t* data, size_t len, int* epoch1Records = nullptr);

// Whether a datagram starts with an epoch-0 handshake record carrying a ClientHello (what may create a server SSL).
bool DtlsIsClientHello(const uint8_t* data, size_t len);

// The digest for an SDP fingerprint algorithm name ("sha-256", "sha-1", "sha-384", "sha-512"; any case), or nullptr.
const EVP_MD* FingerprintDigest(std::string_view algorithm);
// Parses "AB:CD:..." (hex pairs separated by ':'; any case) into `out`; true when exactly `expected` bytes.
bool ParseFingerprint(std::string_view text, uint8_t* out, size_t expected);
// Formats bytes as "AB:CD:...".
std::string FormatFingerprint(const uint8_t* bytes, size_t len);

}  // namespace convene
