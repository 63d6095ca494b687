// SRTP and SRTCP (RFC 3711, RFC 7714) on the OpenSSL linked into Node (3.0 for Node 20).
//
// Per session: two cipher contexts (RTP, RTCP) keyed once in Init(); per packet only the IV is reset.
// HMAC-SHA1 (AES-CM profiles) runs on SHA-1 states precomputed over key^ipad and key^opad: a packet's tag
// costs two struct copies and the SHA-1 compression of the data, with no allocation and no provider dispatch.
// (OpenSSL 3.0's HMAC_Init_ex/EVP_MAC_init with a NULL key re-copy the inner digest context through
// EVP_MD_CTX_copy_ex, which frees and duplicates the provider context: a malloc/free pair per packet and
// measurably slower; see test/srtp-bench.mjs, which times all variants.)
//
// Per-SSRC state lives in a small flat array searched linearly, with the last hit checked first.

// SHA1_Init/Update/Final are deprecated in OpenSSL 3.0 but exported by Node and still the fastest path.
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED 1
#endif

#include "srtp.h"

#include <openssl/aes.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#include <openssl/sha.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>

#include "srtp_testing.h"

// AES-NI primitives of Node's OpenSSL (exported by the node binary on x86-64; weak: absent elsewhere). AES-GCM
// through EVP spends more time in OpenSSL 3's provider dispatch (IV-length parameter lookups, string-keyed
// params) than in the cipher for a 1100-byte packet; the GCM128 mode functions over these primitives skip it.
extern "C" {
int aesni_set_encrypt_key(const unsigned char* userKey, int bits, AES_KEY* key) __attribute__((weak));
void aesni_encrypt(const unsigned char* in, unsigned char* out, const AES_KEY* key) __attribute__((weak));
void aesni_ctr32_encrypt_blocks(const unsigned char* in, unsigned char* out, size_t blocks, const void* key,
                                const unsigned char* ivec) __attribute__((weak));
}

namespace convene {

namespace {

// One direction's AES-GCM key on the GCM128 mode API (see above), or unavailable (null) off x86-64/AES-NI.
struct FastGcm {
  AES_KEY key;  // referenced by `gcm`: the struct never moves
  GCM128_CONTEXT* gcm = nullptr;

  static bool Available() {
#if defined(__x86_64__)
    static const bool ok = aesni_set_encrypt_key != nullptr && aesni_encrypt != nullptr &&
                           aesni_ctr32_encrypt_blocks != nullptr && __builtin_cpu_supports("aes") &&
                           __builtin_cpu_supports("pclmul") && std::getenv("CONVENE_SRTP_EVP") == nullptr;
    return ok;
#else
    return false;
#endif
  }

  static FastGcm* New(const uint8_t* k, size_t keyLen) {
    if (!Available() || (keyLen != 16 && keyLen != 32)) return nullptr;
    auto* f = new (std::nothrow) FastGcm();
    if (f == nullptr) return nullptr;
    if (aesni_set_encrypt_key(k, static_cast<int>(keyLen * 8), &f->key) != 0 ||
        (f->gcm = CRYPTO_gcm128_new(&f->key, reinterpret_cast<block128_f>(aesni_encrypt))) == nullptr) {
      Free(f);
      return nullptr;
    }
    return f;
  }

  static void Free(FastGcm* f) {
    if (f == nullptr) return;
    if (f->gcm != nullptr) CRYPTO_gcm128_release(f->gcm);
    OPENSSL_cleanse(&f->key, sizeof(f->key));
    delete f;
  }

  // One AEAD operation in place, as Impl::Gcm.
  bool Run(const uint8_t* iv, const uint8_t* aad1, int aad1Len, const uint8_t* aad2, int aad2Len, uint8_t* data,
           int dataLen, uint8_t* tag, bool encrypt) {
    const auto ctr = reinterpret_cast<ctr128_f>(aesni_ctr32_encrypt_blocks);
    CRYPTO_gcm128_setiv(gcm, iv, 12);
    if (aad1Len > 0 && CRYPTO_gcm128_aad(gcm, aad1, static_cast<size_t>(aad1Len)) != 0) return false;
    if (aad2Len > 0 && CRYPTO_gcm128_aad(gcm, aad2, static_cast<size_t>(aad2Len)) != 0) return false;
    if (encrypt) {
      if (dataLen > 0 && CRYPTO_gcm128_encrypt_ctr32(gcm, data, data, static_cast<size_t>(dataLen), ctr) != 0) return false;
      CRYPTO_gcm128_tag(gcm, tag, kGcmTagLen);
      return true;
    }
    if (dataLen > 0 && CRYPTO_gcm128_decrypt_ctr32(gcm, data, data, static_cast<size_t>(dataLen), ctr) != 0) return false;
    return CRYPTO_gcm128_finish(gcm, tag, kGcmTagLen) == 0;  // constant-time compare
  }

  static constexpr size_t kGcmTagLen = 16;
};

constexpr int kRtpFixedHeader = 12;
constexpr int kRtcpHeader = 8;
constexpr int kGcmTag = 16;
constexpr int kCmRtcpTag = 10;  // HMAC-SHA1-80 for SRTCP with both AES-CM profiles (RFC 5764 section 4.1.2)
constexpr int kIndexWord = 4;   // SRTCP E bit + 31-bit index
constexpr int kSha1Len = 20;
constexpr int kCmAuthKeyLen = 20;
constexpr int kCmSaltLen = 14;
constexpr int kGcmSaltLen = 12;
constexpr int kRtpWindow = 128;  // replay window, packets
constexpr int kRtcpWindow = 64;
constexpr uint32_t kMaxStreams = 512;  // SSRC table cap; beyond it the oldest-inserted entries are recycled

// Key derivation labels (RFC 3711 section 4.3.2).
constexpr uint8_t kLabelRtpEncryption = 0x00;
constexpr uint8_t kLabelRtpAuth = 0x01;
constexpr uint8_t kLabelRtpSalt = 0x02;
constexpr uint8_t kLabelRtcpEncryption = 0x03;
constexpr uint8_t kLabelRtcpAuth = 0x04;
constexpr uint8_t kLabelRtcpSalt = 0x05;

inline uint32_t Load32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}
inline uint16_t Load16(const uint8_t* p) { return uint16_t((p[0] << 8) | p[1]); }
inline void Store32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

// HMAC-SHA1 with the key's inner and outer pads absorbed once.
struct HmacSha1 {
  SHA_CTX inner;
  SHA_CTX outer;

  bool Init(const uint8_t* key, size_t keyLen) {
    if (keyLen > SHA_CBLOCK) return false;  // SRTP auth keys are 20 bytes
    uint8_t pad[SHA_CBLOCK];
    for (size_t i = 0; i < SHA_CBLOCK; i++) pad[i] = uint8_t((i < keyLen ? key[i] : 0) ^ 0x36);
    bool ok = SHA1_Init(&inner) == 1 && SHA1_Update(&inner, pad, SHA_CBLOCK) == 1;
    for (size_t i = 0; i < SHA_CBLOCK; i++) pad[i] ^= 0x36 ^ 0x5c;
    ok = ok && SHA1_Init(&outer) == 1 && SHA1_Update(&outer, pad, SHA_CBLOCK) == 1;
    OPENSSL_cleanse(pad, sizeof(pad));
    return ok;
  }

  // HMAC(data || suffix), full 20 bytes.
  void Tag(const uint8_t* data, size_t len, const uint8_t* suffix, size_t suffixLen, uint8_t out[kSha1Len]) const {
    SHA_CTX c = inner;
    SHA1_Update(&c, data, len);
    if (suffixLen != 0) SHA1_Update(&c, suffix, suffixLen);
    uint8_t innerDigest[kSha1Len];
    SHA1_Final(innerDigest, &c);
    c = outer;
    SHA1_Update(&c, innerDigest, kSha1Len);
    SHA1_Final(out, &c);
  }

  void Cleanse() { OPENSSL_cleanse(this, sizeof(*this)); }
};

struct CmAuth {
  HmacSha1 rtp;
  HmacSha1 rtcp;
};

enum StreamFlags : uint8_t {
  kTxRtp = 1,    // sender RTP state initialized
  kRxRtp = 2,    // receiver RTP state initialized
  kRxRtcp = 4,   // receiver RTCP state initialized
};

// Per-SSRC state (48 bytes). One entry serves whichever of the roles the session is used for.
struct Stream {
  uint32_t ssrc;
  uint32_t txRoc;        // sender: rollover counter of the highest sequence number protected
  uint32_t rxRoc;        // receiver: ROC of the highest authenticated index
  uint32_t rtcpHighest;  // receiver: highest authenticated SRTCP index
  uint16_t txSeq;        // sender: highest sequence number protected (s_l)
  uint16_t rxSeq;        // receiver: s_l
  uint8_t flags;
  uint64_t rxWinLo;  // receiver RTP replay bitmap: bit i = (highest index - i) seen, i < 128
  uint64_t rxWinHi;
  uint64_t rtcpWin;  // receiver SRTCP replay bitmap, i < 64
};

// RFC 3711 Appendix A: the ROC v for sequence number `seq` given the highest known (roc, s_l). May be roc - 1
// (returned as -1 when roc is 0: a packet from before the stream's first one) or roc + 1.
inline int64_t GuessRoc(uint32_t roc, uint16_t sl, uint16_t seq) {
  if (sl < 32768) {
    if (int(seq) - int(sl) > 32768) return int64_t(roc) - 1;
    return roc;
  }
  if (int(sl) - 32768 > int(seq)) return int64_t(roc) + 1;
  return roc;
}

// The AES-CM PRF (RFC 3711 section 4.3.3) with r = 0: AES-CTR keystream from IV = (salt || 0x0000) ^ (label << 64).
bool DeriveKeyImpl(const uint8_t* masterKey, size_t keyLen, const uint8_t* masterSalt, size_t saltLen, uint8_t label,
                   uint8_t* out, size_t outLen) {
  const EVP_CIPHER* cipher = keyLen == 16 ? EVP_aes_128_ctr() : keyLen == 32 ? EVP_aes_256_ctr() : nullptr;
  if (cipher == nullptr || saltLen > kCmSaltLen || outLen > INT_MAX) return false;
  uint8_t iv[16] = {0};
  std::memcpy(iv, masterSalt, saltLen);  // a 12-byte AEAD salt is multiplied by 2^16 (RFC 7714 erratum 4938)
  iv[7] ^= label;
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  std::memset(out, 0, outLen);
  int outl = 0;
  bool ok = EVP_EncryptInit_ex(ctx, cipher, nullptr, masterKey, iv) == 1 &&
            (outLen == 0 || EVP_EncryptUpdate(ctx, out, &outl, out, int(outLen)) == 1);
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

EVP_CIPHER_CTX* NewKeyedCipher(const EVP_CIPHER* cipher, const uint8_t* key) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return nullptr;
  if (EVP_CipherInit_ex(ctx, cipher, nullptr, key, nullptr, 1) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

// Length of the RTP header (fixed part, CSRCs, extension), or -1 if it is malformed or longer than `avail`.
inline int RtpHeaderLength(const uint8_t* buf, int avail) {
  if (avail < kRtpFixedHeader || (buf[0] >> 6) != 2) return -1;
  int hdr = kRtpFixedHeader + 4 * (buf[0] & 0x0f);
  if (buf[0] & 0x10) {
    if (hdr + 4 > avail) return -1;
    hdr += 4 + 4 * int(Load16(buf + hdr + 2));
  }
  return hdr <= avail ? hdr : -1;
}

}  // namespace

struct SrtpSession::Impl {
  bool gcm = false;
  uint8_t rtpTagLen = 0;  // 10, 4 (AES-CM) or 16 (GCM)
  EVP_CIPHER_CTX* rtpCipher = nullptr;
  EVP_CIPHER_CTX* rtcpCipher = nullptr;
  FastGcm* rtpFast = nullptr;   // GCM profiles with AES-NI: used instead of the EVP contexts
  FastGcm* rtcpFast = nullptr;
  CmAuth* auth = nullptr;  // AES-CM profiles only
  uint8_t rtpSalt[kCmSaltLen] = {0};
  uint8_t rtcpSalt[kCmSaltLen] = {0};
  uint32_t rtcpTxIndex = 0;  // next SRTCP index to send (RFC 3711 section 3.4: starts at 0)
  Stream* streams = nullptr;
  uint32_t count = 0;
  uint32_t capacity = 0;
  uint32_t last = 0;       // index of the last stream found
  uint32_t recycle = 0;    // next slot to recycle once the table is at kMaxStreams

  ~Impl() {
    EVP_CIPHER_CTX_free(rtpCipher);
    EVP_CIPHER_CTX_free(rtcpCipher);
    FastGcm::Free(rtpFast);
    FastGcm::Free(rtcpFast);
    if (auth != nullptr) {
      auth->rtp.Cleanse();
      auth->rtcp.Cleanse();
      delete auth;
    }
    OPENSSL_cleanse(rtpSalt, sizeof(rtpSalt));
    OPENSSL_cleanse(rtcpSalt, sizeof(rtcpSalt));
    std::free(streams);
  }

  bool SetKeys(SrtpProfile profile, const uint8_t* rtpKey, const uint8_t* rtpSaltIn, const uint8_t* rtpAuth,
               const uint8_t* rtcpKey, const uint8_t* rtcpSaltIn, const uint8_t* rtcpAuth) {
    const EVP_CIPHER* cipher = nullptr;
    switch (profile) {
      case SrtpProfile::kAes128CmSha1_80:
      case SrtpProfile::kAes128CmSha1_32:
        gcm = false;
        rtpTagLen = profile == SrtpProfile::kAes128CmSha1_80 ? 10 : 4;
        cipher = EVP_aes_128_ctr();
        break;
      case SrtpProfile::kAeadAes128Gcm:
        gcm = true;
        rtpTagLen = kGcmTag;
        cipher = EVP_aes_128_gcm();
        break;
      case SrtpProfile::kAeadAes256Gcm:
        gcm = true;
        rtpTagLen = kGcmTag;
        cipher = EVP_aes_256_gcm();
        break;
      default:
        return false;
    }
    EVP_CIPHER_CTX_free(rtpCipher);
    EVP_CIPHER_CTX_free(rtcpCipher);
    rtpCipher = rtcpCipher = nullptr;
    FastGcm::Free(rtpFast);
    FastGcm::Free(rtcpFast);
    rtpFast = rtcpFast = nullptr;
    if (gcm) {
      const size_t keyLen = profile == SrtpProfile::kAeadAes256Gcm ? 32 : 16;
      rtpFast = FastGcm::New(rtpKey, keyLen);
      rtcpFast = rtpFast != nullptr ? FastGcm::New(rtcpKey, keyLen) : nullptr;
      if (rtcpFast == nullptr) {
        FastGcm::Free(rtpFast);
        rtpFast = nullptr;
      }
    }
    if (rtpFast == nullptr) {  // EVP: AES-CM, or GCM without AES-NI
      rtpCipher = NewKeyedCipher(cipher, rtpKey);
      rtcpCipher = NewKeyedCipher(cipher, rtcpKey);
      if (rtpCipher == nullptr || rtcpCipher == nullptr) return false;
    }
    const size_t saltLen = gcm ? kGcmSaltLen : kCmSaltLen;
    std::memset(rtpSalt, 0, sizeof(rtpSalt));
    std::memset(rtcpSalt, 0, sizeof(rtcpSalt));
    std::memcpy(rtpSalt, rtpSaltIn, saltLen);
    std::memcpy(rtcpSalt, rtcpSaltIn, saltLen);
    if (gcm) {
      if (auth != nullptr) {
        auth->rtp.Cleanse();
        auth->rtcp.Cleanse();
        delete auth;
        auth = nullptr;
      }
    } else {
      if (auth == nullptr) auth = new (std::nothrow) CmAuth;
      if (auth == nullptr || !auth->rtp.Init(rtpAuth, kCmAuthKeyLen) || !auth->rtcp.Init(rtcpAuth, kCmAuthKeyLen)) {
        return false;
      }
    }
    count = 0;
    last = 0;
    recycle = 0;
    rtcpTxIndex = 0;
    return true;
  }

  Stream* Find(uint32_t ssrc) {
    if (last < count && streams[last].ssrc == ssrc) return &streams[last];
    for (uint32_t i = 0; i < count; i++) {
      if (streams[i].ssrc == ssrc) {
        last = i;
        return &streams[i];
      }
    }
    return nullptr;
  }

  Stream* Insert(uint32_t ssrc) {
    uint32_t i;
    if (count < capacity) {
      i = count++;
    } else if (capacity < kMaxStreams) {
      uint32_t newCapacity = capacity == 0 ? 4 : capacity * 2;
      if (newCapacity > kMaxStreams) newCapacity = kMaxStreams;
      auto* grown = static_cast<Stream*>(std::realloc(streams, sizeof(Stream) * newCapacity));
      if (grown == nullptr) return nullptr;
      streams = grown;
      capacity = newCapacity;
      i = count++;
    } else {
      i = recycle;
      recycle = (recycle + 1) % kMaxStreams;
    }
    std::memset(&streams[i], 0, sizeof(Stream));
    streams[i].ssrc = ssrc;
    last = i;
    return &streams[i];
  }

  Stream* FindOrInsert(uint32_t ssrc) {
    Stream* s = Find(ssrc);
    return s != nullptr ? s : Insert(ssrc);
  }

  // ---- RTP ----

  int ProtectRtp(uint8_t* buf, int len, int cap) {
    const int hdr = RtpHeaderLength(buf, len);
    if (hdr < 0 || cap < len || cap - len < rtpTagLen) return kSrtpBadPacket;
    const uint32_t ssrc = Load32(buf + 8);
    const uint16_t seq = Load16(buf + 2);
    Stream* s = FindOrInsert(ssrc);
    if (s == nullptr) return kSrtpBadPacket;
    uint32_t roc;
    if (!(s->flags & kTxRtp)) {
      s->flags |= kTxRtp;
      s->txRoc = 0;
      s->txSeq = seq;
      roc = 0;
    } else {
      int64_t v = GuessRoc(s->txRoc, s->txSeq, seq);
      if (v < 0) v = 0;  // before the first packet of a stream whose ROC is 0: cannot be expressed
      roc = uint32_t(v);
      if (v > int64_t(s->txRoc)) {
        s->txRoc = roc;
        s->txSeq = seq;
      } else if (roc == s->txRoc && seq > s->txSeq) {
        s->txSeq = seq;
      }
    }
    return gcm ? GcmRtp(buf, len, hdr, ssrc, roc, seq, true) : CmProtectRtp(buf, len, hdr, ssrc, roc, seq);
  }

  int UnprotectRtp(uint8_t* buf, int len) {
    if (len < kRtpFixedHeader + rtpTagLen) return kSrtpBadPacket;
    const int hdr = RtpHeaderLength(buf, len - rtpTagLen);
    if (hdr < 0) return kSrtpBadPacket;
    const uint32_t ssrc = Load32(buf + 8);
    const uint16_t seq = Load16(buf + 2);
    Stream* s = Find(ssrc);
    uint64_t index;
    if (s == nullptr || !(s->flags & kRxRtp)) {
      index = seq;  // first packet: ROC 0, s_l = SEQ (RFC 3711 section 3.3.1)
    } else {
      const int64_t v = GuessRoc(s->rxRoc, s->rxSeq, seq);
      if (v < 0) return kSrtpReplayed;
      index = (uint64_t(v) << 16) | seq;
      const uint64_t highest = (uint64_t(s->rxRoc) << 16) | s->rxSeq;
      if (index <= highest) {
        const uint64_t delta = highest - index;
        if (delta >= kRtpWindow) return kSrtpReplayed;
        const uint64_t word = delta < 64 ? s->rxWinLo : s->rxWinHi;
        if ((word >> (delta & 63)) & 1) return kSrtpReplayed;
      }
    }
    const uint32_t roc = uint32_t(index >> 16);
    const int plainLen = gcm ? GcmRtp(buf, len, hdr, ssrc, roc, seq, false) : CmUnprotectRtp(buf, len, hdr, ssrc, roc, seq);
    if (plainLen < 0) return plainLen;
    // Authenticated: commit the index.
    if (s == nullptr) {
      s = Insert(ssrc);
      if (s == nullptr) return plainLen;  // out of memory: the packet is good, its replay state is lost
    }
    if (!(s->flags & kRxRtp)) {
      s->flags |= kRxRtp;
      s->rxRoc = roc;
      s->rxSeq = seq;
      s->rxWinLo = 1;
      s->rxWinHi = 0;
    } else {
      const uint64_t highest = (uint64_t(s->rxRoc) << 16) | s->rxSeq;
      if (index > highest) {
        const uint64_t shift = index - highest;
        if (shift >= 128) {
          s->rxWinLo = 0;
          s->rxWinHi = 0;
        } else if (shift >= 64) {
          s->rxWinHi = s->rxWinLo << (shift - 64);
          s->rxWinLo = 0;
        } else {
          s->rxWinHi = (s->rxWinHi << shift) | (s->rxWinLo >> (64 - shift));
          s->rxWinLo <<= shift;
        }
        s->rxWinLo |= 1;
        s->rxRoc = roc;
        s->rxSeq = seq;
      } else {
        const uint64_t delta = highest - index;
        if (delta < 64) {
          s->rxWinLo |= uint64_t(1) << delta;
        } else {
          s->rxWinHi |= uint64_t(1) << (delta - 64);
        }
      }
    }
    return plainLen;
  }

  // AES-CM IV (RFC 3711 section 4.1.1): (k_s * 2^16) ^ (SSRC * 2^64) ^ (index * 2^16).
  static void CmIv(uint8_t iv[16], const uint8_t salt[kCmSaltLen], uint32_t ssrc, uint32_t indexHigh,
                   uint16_t indexLow) {
    std::memcpy(iv, salt, kCmSaltLen);
    iv[14] = 0;
    iv[15] = 0;
    iv[4] ^= uint8_t(ssrc >> 24);
    iv[5] ^= uint8_t(ssrc >> 16);
    iv[6] ^= uint8_t(ssrc >> 8);
    iv[7] ^= uint8_t(ssrc);
    iv[8] ^= uint8_t(indexHigh >> 24);
    iv[9] ^= uint8_t(indexHigh >> 16);
    iv[10] ^= uint8_t(indexHigh >> 8);
    iv[11] ^= uint8_t(indexHigh);
    iv[12] ^= uint8_t(indexLow >> 8);
    iv[13] ^= uint8_t(indexLow);
  }

  static bool Ctr(EVP_CIPHER_CTX* ctx, const uint8_t iv[16], uint8_t* data, int n) {
    if (n == 0) return true;
    int outl = 0;
    return EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, 1) == 1 &&
           EVP_CipherUpdate(ctx, data, &outl, data, n) == 1;
  }

  int CmProtectRtp(uint8_t* buf, int len, int hdr, uint32_t ssrc, uint32_t roc, uint16_t seq) {
    uint8_t iv[16];
    CmIv(iv, rtpSalt, ssrc, roc, seq);  // the 48-bit index ROC || SEQ lands in IV bytes 8..13
    if (!Ctr(rtpCipher, iv, buf + hdr, len - hdr)) return kSrtpBadPacket;
    uint8_t rocBytes[4];
    Store32(rocBytes, roc);
    uint8_t tag[kSha1Len];
    auth->rtp.Tag(buf, size_t(len), rocBytes, 4, tag);
    std::memcpy(buf + len, tag, rtpTagLen);
    return len + rtpTagLen;
  }

  int CmUnprotectRtp(uint8_t* buf, int len, int hdr, uint32_t ssrc, uint32_t roc, uint16_t seq) {
    const int authLen = len - rtpTagLen;
    uint8_t rocBytes[4];
    Store32(rocBytes, roc);
    uint8_t tag[kSha1Len];
    auth->rtp.Tag(buf, size_t(authLen), rocBytes, 4, tag);
    if (CRYPTO_memcmp(tag, buf + authLen, rtpTagLen) != 0) return kSrtpAuthFailed;
    uint8_t iv[16];
    CmIv(iv, rtpSalt, ssrc, roc, seq);
    if (!Ctr(rtpCipher, iv, buf + hdr, authLen - hdr)) return kSrtpBadPacket;
    return authLen;
  }

  // AEAD (RFC 7714 section 8): IV = salt ^ (0x0000 || SSRC || ROC || SEQ); AAD = the RTP header.
  int GcmRtp(uint8_t* buf, int len, int hdr, uint32_t ssrc, uint32_t roc, uint16_t seq, bool encrypt) {
    uint8_t iv[kGcmSaltLen];
    std::memcpy(iv, rtpSalt, kGcmSaltLen);
    iv[2] ^= uint8_t(ssrc >> 24);
    iv[3] ^= uint8_t(ssrc >> 16);
    iv[4] ^= uint8_t(ssrc >> 8);
    iv[5] ^= uint8_t(ssrc);
    iv[6] ^= uint8_t(roc >> 24);
    iv[7] ^= uint8_t(roc >> 16);
    iv[8] ^= uint8_t(roc >> 8);
    iv[9] ^= uint8_t(roc);
    iv[10] ^= uint8_t(seq >> 8);
    iv[11] ^= uint8_t(seq);
    const int bodyLen = encrypt ? len - hdr : len - kGcmTag - hdr;
    if (!Gcm(rtpFast, rtpCipher, iv, buf, hdr, nullptr, 0, buf + hdr, bodyLen, buf + hdr + bodyLen, encrypt)) {
      return encrypt ? kSrtpBadPacket : kSrtpAuthFailed;
    }
    return encrypt ? len + kGcmTag : len - kGcmTag;
  }

  // One AEAD operation in place: AAD = aad1 || aad2, `data` en/decrypted, tag written (encrypt) or checked.
  static bool Gcm(FastGcm* fast, EVP_CIPHER_CTX* ctx, const uint8_t* iv, const uint8_t* aad1, int aad1Len,
                  const uint8_t* aad2, int aad2Len, uint8_t* data, int dataLen, uint8_t* tag, bool encrypt) {
    if (fast != nullptr) return fast->Run(iv, aad1, aad1Len, aad2, aad2Len, data, dataLen, tag, encrypt);
    int outl = 0;
    if (EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv, encrypt ? 1 : 0) != 1) return false;
    if (aad1Len > 0 && EVP_CipherUpdate(ctx, nullptr, &outl, aad1, aad1Len) != 1) return false;
    if (aad2Len > 0 && EVP_CipherUpdate(ctx, nullptr, &outl, aad2, aad2Len) != 1) return false;
    if (dataLen > 0 && EVP_CipherUpdate(ctx, data, &outl, data, dataLen) != 1) return false;
    // The tag goes through the params API directly (EVP_CIPHER_CTX_ctrl builds the same params, slower).
    OSSL_PARAM params[2] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kGcmTag),
                            OSSL_PARAM_construct_end()};
    if (encrypt) {
      return EVP_CipherFinal_ex(ctx, data + dataLen, &outl) == 1 && EVP_CIPHER_CTX_get_params(ctx, params) == 1;
    }
    return EVP_CIPHER_CTX_set_params(ctx, params) == 1 && EVP_CipherFinal_ex(ctx, data + dataLen, &outl) == 1;
  }

  // ---- RTCP ----

  static bool ValidRtcpHeader(const uint8_t* buf, int len) { return len >= kRtcpHeader && (buf[0] >> 6) == 2; }

  int ProtectRtcp(uint8_t* buf, int len, int cap) {
    const int trailer = kIndexWord + (gcm ? kGcmTag : kCmRtcpTag);
    if (!ValidRtcpHeader(buf, len) || cap < len || cap - len < trailer) return kSrtpBadPacket;
    const uint32_t ssrc = Load32(buf + 4);
    const uint32_t index = rtcpTxIndex;
    rtcpTxIndex = (rtcpTxIndex + 1) & 0x7fffffff;
    uint8_t word[kIndexWord];
    Store32(word, 0x80000000u | index);  // E = 1: always encrypted
    if (gcm) {
      uint8_t iv[kGcmSaltLen];
      GcmRtcpIv(iv, ssrc, index);
      if (!Gcm(rtcpFast, rtcpCipher, iv, buf, kRtcpHeader, word, kIndexWord, buf + kRtcpHeader, len - kRtcpHeader, buf + len,
               true)) {
        return kSrtpBadPacket;
      }
      std::memcpy(buf + len + kGcmTag, word, kIndexWord);  // header | ciphertext | tag | E+index (RFC 7714 §9)
      return len + kGcmTag + kIndexWord;
    }
    uint8_t iv[16];
    CmIv(iv, rtcpSalt, ssrc, 0, 0);
    iv[10] ^= word[0] & 0x7f;
    iv[11] ^= word[1];
    iv[12] ^= word[2];
    iv[13] ^= word[3];
    if (!Ctr(rtcpCipher, iv, buf + kRtcpHeader, len - kRtcpHeader)) return kSrtpBadPacket;
    std::memcpy(buf + len, word, kIndexWord);
    uint8_t tag[kSha1Len];
    auth->rtcp.Tag(buf, size_t(len) + kIndexWord, nullptr, 0, tag);
    std::memcpy(buf + len + kIndexWord, tag, kCmRtcpTag);
    return len + kIndexWord + kCmRtcpTag;
  }

  void GcmRtcpIv(uint8_t iv[kGcmSaltLen], uint32_t ssrc, uint32_t index) const {
    // RFC 7714 section 9.1: salt ^ (0x0000 || SSRC || 0x0000 || 0 || 31-bit SRTCP index).
    std::memcpy(iv, rtcpSalt, kGcmSaltLen);
    iv[2] ^= uint8_t(ssrc >> 24);
    iv[3] ^= uint8_t(ssrc >> 16);
    iv[4] ^= uint8_t(ssrc >> 8);
    iv[5] ^= uint8_t(ssrc);
    iv[8] ^= uint8_t((index >> 24) & 0x7f);
    iv[9] ^= uint8_t(index >> 16);
    iv[10] ^= uint8_t(index >> 8);
    iv[11] ^= uint8_t(index);
  }

  int UnprotectRtcp(uint8_t* buf, int len) {
    const int tagLen = gcm ? kGcmTag : kCmRtcpTag;
    if (len < kRtcpHeader + kIndexWord + tagLen || !ValidRtcpHeader(buf, len)) return kSrtpBadPacket;
    const uint32_t ssrc = Load32(buf + 4);
    // AES-CM: header | payload | E+index | tag.  GCM: header | payload | tag | E+index.
    const int wordAt = gcm ? len - kIndexWord : len - kIndexWord - tagLen;
    const uint32_t word = Load32(buf + wordAt);
    const bool encrypted = (word & 0x80000000u) != 0;
    const uint32_t index = word & 0x7fffffff;
    const int plainLen = len - kIndexWord - tagLen;
    Stream* s = Find(ssrc);
    if (s != nullptr && (s->flags & kRxRtcp) && index <= s->rtcpHighest) {
      const uint32_t delta = s->rtcpHighest - index;
      if (delta >= kRtcpWindow || ((s->rtcpWin >> delta) & 1)) return kSrtpReplayed;
    }
    if (gcm) {
      uint8_t iv[kGcmSaltLen];
      GcmRtcpIv(iv, ssrc, index);
      bool ok;
      if (encrypted) {
        ok = Gcm(rtcpFast, rtcpCipher, iv, buf, kRtcpHeader, buf + wordAt, kIndexWord, buf + kRtcpHeader,
                 plainLen - kRtcpHeader, buf + plainLen, false);
      } else {
        // E = 0 (RFC 7714 section 9.2): the whole packet is AAD, nothing is encrypted.
        ok = Gcm(rtcpFast, rtcpCipher, iv, buf, plainLen, buf + wordAt, kIndexWord, nullptr, 0, buf + plainLen, false);
      }
      if (!ok) return kSrtpAuthFailed;
    } else {
      uint8_t tag[kSha1Len];
      auth->rtcp.Tag(buf, size_t(len - tagLen), nullptr, 0, tag);
      if (CRYPTO_memcmp(tag, buf + len - tagLen, tagLen) != 0) return kSrtpAuthFailed;
      if (encrypted) {
        uint8_t iv[16];
        CmIv(iv, rtcpSalt, ssrc, 0, 0);
        iv[10] ^= uint8_t((index >> 24) & 0x7f);
        iv[11] ^= uint8_t(index >> 16);
        iv[12] ^= uint8_t(index >> 8);
        iv[13] ^= uint8_t(index);
        if (!Ctr(rtcpCipher, iv, buf + kRtcpHeader, plainLen - kRtcpHeader)) return kSrtpBadPacket;
      }
    }
    if (s == nullptr) {
      s = Insert(ssrc);
      if (s == nullptr) return plainLen;
    }
    if (!(s->flags & kRxRtcp)) {
      s->flags |= kRxRtcp;
      s->rtcpHighest = index;
      s->rtcpWin = 1;
    } else if (index > s->rtcpHighest) {
      const uint32_t shift = index - s->rtcpHighest;
      s->rtcpWin = shift >= 64 ? 1 : (s->rtcpWin << shift) | 1;
      s->rtcpHighest = index;
    } else {
      s->rtcpWin |= uint64_t(1) << (s->rtcpHighest - index);
    }
    return plainLen;
  }
};

bool SrtpKeyLengths(SrtpProfile profile, size_t* keyLen, size_t* saltLen) {
  size_t k, s;
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
    case SrtpProfile::kAes128CmSha1_32:
      k = 16;
      s = kCmSaltLen;
      break;
    case SrtpProfile::kAeadAes128Gcm:
      k = 16;
      s = kGcmSaltLen;
      break;
    case SrtpProfile::kAeadAes256Gcm:
      k = 32;
      s = kGcmSaltLen;
      break;
    default:
      return false;
  }
  if (keyLen != nullptr) *keyLen = k;
  if (saltLen != nullptr) *saltLen = s;
  return true;
}

const char* SrtpProfileName(SrtpProfile profile) {
  switch (profile) {
    case SrtpProfile::kAes128CmSha1_80:
      return "SRTP_AES128_CM_SHA1_80";
    case SrtpProfile::kAes128CmSha1_32:
      return "SRTP_AES128_CM_SHA1_32";
    case SrtpProfile::kAeadAes128Gcm:
      return "SRTP_AEAD_AES_128_GCM";
    case SrtpProfile::kAeadAes256Gcm:
      return "SRTP_AEAD_AES_256_GCM";
  }
  return nullptr;
}

SrtpSession::SrtpSession() = default;

SrtpSession::~SrtpSession() { delete impl_; }

bool SrtpSession::Init(SrtpProfile profile, const uint8_t* masterKey, size_t keyLen, const uint8_t* masterSalt,
                       size_t saltLen) {
  delete impl_;
  impl_ = nullptr;
  size_t wantKey, wantSalt;
  if (masterKey == nullptr || masterSalt == nullptr || !SrtpKeyLengths(profile, &wantKey, &wantSalt) ||
      keyLen != wantKey || saltLen != wantSalt) {
    return false;
  }
  const bool gcm = profile == SrtpProfile::kAeadAes128Gcm || profile == SrtpProfile::kAeadAes256Gcm;
  uint8_t rtpKey[32], rtcpKey[32], rtpSalt[kCmSaltLen], rtcpSalt[kCmSaltLen];
  uint8_t rtpAuth[kCmAuthKeyLen] = {0}, rtcpAuth[kCmAuthKeyLen] = {0};
  bool ok = DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, kLabelRtpEncryption, rtpKey, keyLen) &&
            DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, kLabelRtpSalt, rtpSalt, saltLen) &&
            DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, kLabelRtcpEncryption, rtcpKey, keyLen) &&
            DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, kLabelRtcpSalt, rtcpSalt, saltLen);
  if (ok && !gcm) {
    ok = DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, kLabelRtpAuth, rtpAuth, kCmAuthKeyLen) &&
         DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, kLabelRtcpAuth, rtcpAuth, kCmAuthKeyLen);
  }
  if (ok) {
    Impl* impl = new (std::nothrow) Impl;
    if (impl != nullptr && impl->SetKeys(profile, rtpKey, rtpSalt, rtpAuth, rtcpKey, rtcpSalt, rtcpAuth)) {
      impl_ = impl;
      profile_ = profile;
    } else {
      delete impl;
      ok = false;
    }
  }
  OPENSSL_cleanse(rtpKey, sizeof(rtpKey));
  OPENSSL_cleanse(rtcpKey, sizeof(rtcpKey));
  OPENSSL_cleanse(rtpSalt, sizeof(rtpSalt));
  OPENSSL_cleanse(rtcpSalt, sizeof(rtcpSalt));
  OPENSSL_cleanse(rtpAuth, sizeof(rtpAuth));
  OPENSSL_cleanse(rtcpAuth, sizeof(rtcpAuth));
  return ok;
}

int SrtpSession::ProtectRtp(uint8_t* buf, int len, int cap) {
  if (impl_ == nullptr) return kSrtpNotReady;
  if (buf == nullptr || len <= 0 || len > INT_MAX - kSrtpMaxTrailer) return kSrtpBadPacket;
  return impl_->ProtectRtp(buf, len, cap);
}

int SrtpSession::UnprotectRtp(uint8_t* buf, int len) {
  if (impl_ == nullptr) return kSrtpNotReady;
  if (buf == nullptr || len <= 0) return kSrtpBadPacket;
  return impl_->UnprotectRtp(buf, len);
}

int SrtpSession::ProtectRtcp(uint8_t* buf, int len, int cap) {
  if (impl_ == nullptr) return kSrtpNotReady;
  if (buf == nullptr || len <= 0 || len > INT_MAX - kSrtpMaxTrailer) return kSrtpBadPacket;
  return impl_->ProtectRtcp(buf, len, cap);
}

int SrtpSession::UnprotectRtcp(uint8_t* buf, int len) {
  if (impl_ == nullptr) return kSrtpNotReady;
  if (buf == nullptr || len <= 0) return kSrtpBadPacket;
  return impl_->UnprotectRtcp(buf, len);
}

// ---- test-only access (src/srtp_testing.h) ----

bool SrtpTestAccess::DeriveKey(const uint8_t* masterKey, size_t keyLen, const uint8_t* masterSalt, size_t saltLen,
                               uint8_t label, uint8_t* out, size_t outLen) {
  return DeriveKeyImpl(masterKey, keyLen, masterSalt, saltLen, label, out, outLen);
}

bool SrtpTestAccess::SetSessionKeys(SrtpSession& session, const uint8_t* rtpKey, const uint8_t* rtpSalt,
                                    const uint8_t* rtpAuth, const uint8_t* rtcpKey, const uint8_t* rtcpSalt,
                                    const uint8_t* rtcpAuth) {
  if (session.impl_ == nullptr) return false;
  if (session.impl_->SetKeys(session.profile_, rtpKey, rtpSalt, rtpAuth, rtcpKey, rtcpSalt, rtcpAuth)) return true;
  delete session.impl_;  // half-keyed: make the session report kSrtpNotReady
  session.impl_ = nullptr;
  return false;
}

void SrtpTestAccess::SetNextRtcpIndex(SrtpSession& session, uint32_t index) {
  if (session.impl_ != nullptr) session.impl_->rtcpTxIndex = index & 0x7fffffff;
}

size_t SrtpTestAccess::OwnHeapBytes(const SrtpSession& session) {
  const SrtpSession::Impl* impl = session.impl_;
  if (impl == nullptr) return 0;
  return sizeof(SrtpSession::Impl) + (impl->auth != nullptr ? sizeof(CmAuth) : 0) +
         sizeof(Stream) * impl->capacity;
}

size_t SrtpTestAccess::ImplSize() { return sizeof(SrtpSession::Impl); }

}  // namespace convene
