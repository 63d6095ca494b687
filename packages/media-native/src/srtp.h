// SRTP and SRTCP (RFC 3711, RFC 7714) on OpenSSL's EVP, as linked into Node itself.
// One SrtpSession protects or unprotects one direction of one DTLS-SRTP association, for any number of SSRCs.
// Packets are processed in place; no allocation per packet.
#pragma once

#include <cstddef>
#include <cstdint>

namespace convene {

// DTLS-SRTP protection profile ids (RFC 5764 section 4.1.2, RFC 7714 section 14.2).
enum class SrtpProfile : uint16_t {
  kAes128CmSha1_80 = 0x0001,
  kAes128CmSha1_32 = 0x0002,
  kAeadAes128Gcm = 0x0007,
  kAeadAes256Gcm = 0x0008,
};

// Bytes a protected packet can grow by: RTP auth tag (10 or 16), RTCP adds the 4-byte E|index word.
constexpr int kSrtpMaxTrailer = 16 + 4;

// Negative results of Protect*/Unprotect*.
enum SrtpError : int {
  kSrtpBadPacket = -1,    // too short, not RTP/RTCP, or no room for the trailer
  kSrtpAuthFailed = -2,   // tag did not verify
  kSrtpReplayed = -3,     // index already seen or older than the replay window
  kSrtpNotReady = -4,     // Init() not called or failed
};

// Key and salt lengths of a profile (master key, master salt), e.g. 16/14 for AES-CM, 16/12 for AES-128-GCM.
bool SrtpKeyLengths(SrtpProfile profile, size_t* keyLen, size_t* saltLen);

// Name of a profile as OpenSSL spells it ("SRTP_AEAD_AES_128_GCM"), or nullptr.
const char* SrtpProfileName(SrtpProfile profile);

class SrtpSession {
 public:
  SrtpSession();
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  // Derives the session keys (RFC 3711 section 4.3, KDR 0) from one direction's master key and salt.
  bool Init(SrtpProfile profile, const uint8_t* masterKey, size_t keyLen, const uint8_t* masterSalt, size_t saltLen);

  // Encrypts and authenticates an RTP packet in place. `cap` is the buffer's capacity (>= len + kSrtpMaxTrailer
  // always suffices; the exact need is the profile's tag, 10/4/16). Returns the protected length, or a negative
  // SrtpError. The ROC is tracked per SSRC from the first packet protected (ROC 0).
  int ProtectRtp(uint8_t* buf, int len, int cap);
  // Verifies and decrypts an SRTP packet in place (ROC estimation and a 128-packet replay window per SSRC).
  // Returns the plain length or < 0. On kSrtpAuthFailed with a GCM profile the payload bytes may have been
  // overwritten (decrypted before the tag check); with AES-CM the buffer is untouched on any error.
  int UnprotectRtp(uint8_t* buf, int len);
  // Same for RTCP (compound packets). ProtectRtcp: one SRTCP index per session, starting at 0, E bit always set.
  // UnprotectRtcp: replay window (64) per sender SSRC (the peer's libsrtp keeps an index per SSRC); E = 0 accepted.
  int ProtectRtcp(uint8_t* buf, int len, int cap);
  int UnprotectRtcp(uint8_t* buf, int len);

  SrtpProfile profile() const { return profile_; }

 private:
  friend struct SrtpTestAccess;  // test-only hooks (src/srtp_testing.h): RFC vectors give session keys
  struct Impl;
  Impl* impl_ = nullptr;
  SrtpProfile profile_ = SrtpProfile::kAes128CmSha1_80;
};

}  // namespace convene
