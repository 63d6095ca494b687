// SHA1_Init/Update/Final are deprecated in OpenSSL 3.0 but exported by Node: HMAC on them allocates nothing
// (OpenSSL 3.0's one-shot HMAC() fetches the algorithm and allocates its contexts, ~13 mallocs per call).
#ifndef OPENSSL_SUPPRESS_DEPRECATED
#define OPENSSL_SUPPRESS_DEPRECATED 1
#endif

#include "stun.h"

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sys/socket.h>

#include <cstring>

namespace convene {

namespace {

constexpr uint16_t kBindingRequest = 0x0001;
constexpr uint16_t kBindingSuccess = 0x0101;
constexpr uint16_t kAttrUsername = 0x0006;
constexpr uint16_t kAttrMessageIntegrity = 0x0008;
constexpr uint16_t kAttrXorMappedAddress = 0x0020;
constexpr uint16_t kAttrPriority = 0x0024;
constexpr uint16_t kAttrUseCandidate = 0x0025;
constexpr uint16_t kAttrFingerprint = 0x8028;
constexpr uint16_t kAttrIceControlled = 0x8029;
constexpr uint16_t kAttrIceControlling = 0x802a;
constexpr uint32_t kFingerprintXor = 0x5354554e;

inline uint16_t Get16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t Get32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) | (static_cast<uint32_t>(p[2]) << 8) | p[3];
}
inline void Put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void Put32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

struct CrcTable {
  uint32_t t[256];
  CrcTable() {
    for (uint32_t i = 0; i < 256; i++) {
      uint32_t c = i;
      for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
  }
};
const CrcTable kCrc;

// HMAC-SHA1 (RFC 2104) on the stack.
bool Hmac(std::string_view key, const uint8_t* data, size_t len, uint8_t out[20]) {
  constexpr size_t kBlock = 64;
  uint8_t k[kBlock] = {0};
  SHA_CTX ctx;
  bool ok = true;
  if (key.size() > kBlock) {  // a key longer than the block is hashed first
    ok = SHA1_Init(&ctx) == 1 && SHA1_Update(&ctx, key.data(), key.size()) == 1 && SHA1_Final(k, &ctx) == 1;
  } else {
    std::memcpy(k, key.data(), key.size());
  }
  uint8_t pad[kBlock];
  uint8_t inner[SHA_DIGEST_LENGTH];
  for (size_t i = 0; i < kBlock; i++) pad[i] = k[i] ^ 0x36;
  ok = ok && SHA1_Init(&ctx) == 1 && SHA1_Update(&ctx, pad, kBlock) == 1 && SHA1_Update(&ctx, data, len) == 1 && SHA1_Final(inner, &ctx) == 1;
  for (size_t i = 0; i < kBlock; i++) pad[i] = k[i] ^ 0x5c;
  ok = ok && SHA1_Init(&ctx) == 1 && SHA1_Update(&ctx, pad, kBlock) == 1 && SHA1_Update(&ctx, inner, sizeof inner) == 1 && SHA1_Final(out, &ctx) == 1;
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(inner, sizeof inner);
  OPENSSL_cleanse(&ctx, sizeof ctx);
  return ok;
}

}  // namespace

uint32_t Crc32(const uint8_t* data, size_t len) {
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < len; i++) c = kCrc.t[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

bool StunParseBindingRequest(const uint8_t* data, size_t len, StunRequest* out) {
  if (len < kStunHeaderSize || (data[0] & 0xc0) != 0) return false;
  if (Get16(data) != kBindingRequest || Get32(data + 4) != kStunMagicCookie) return false;
  const size_t bodyLen = Get16(data + 2);
  if (bodyLen % 4 != 0 || bodyLen + kStunHeaderSize != len) return false;
  *out = StunRequest();
  out->transactionId = data + 8;
  size_t p = kStunHeaderSize;
  bool afterIntegrity = false;
  while (p < len) {
    if (p + 4 > len) return false;
    const uint16_t type = Get16(data + p);
    const size_t alen = Get16(data + p + 2);
    const size_t next = p + 4 + ((alen + 3) & ~size_t{3});
    if (next > len) return false;
    const uint8_t* v = data + p + 4;
    if (out->fingerprintOffset >= 0) return false;  // FINGERPRINT must be the last attribute
    if (type == kAttrFingerprint) {
      if (alen != 4) return false;
      out->fingerprintOffset = static_cast<int>(p);
    } else if (afterIntegrity) {
      // RFC 5389 section 15.4: attributes after MESSAGE-INTEGRITY (but FINGERPRINT) are ignored.
    } else if (type == kAttrMessageIntegrity) {
      if (alen != 20) return false;
      out->integrityOffset = static_cast<int>(p);
      afterIntegrity = true;
    } else if (type == kAttrUsername) {
      out->username = std::string_view(reinterpret_cast<const char*>(v), alen);
    } else if (type == kAttrUseCandidate) {
      out->useCandidate = true;
    } else if (type == kAttrIceControlling) {
      out->iceControlling = true;  // the tiebreaker is never inspected (Chromium over TURN/TCP sends 0)
    } else if (type == kAttrIceControlled) {
      out->iceControlled = true;
    } else if (type == kAttrPriority && alen == 4) {
      out->priority = Get32(v);
    }
    p = next;
  }
  return true;
}

std::string_view StunLocalUfrag(std::string_view username) {
  const size_t colon = username.find(':');
  return colon == std::string_view::npos ? username : username.substr(0, colon);
}

bool StunVerify(uint8_t* data, size_t len, const StunRequest& req, std::string_view password) {
  if (req.integrityOffset < 0 || static_cast<size_t>(req.integrityOffset) + 24 > len) return false;
  if (req.fingerprintOffset >= 0) {
    const size_t fp = static_cast<size_t>(req.fingerprintOffset);
    if (fp + 8 != len) return false;
    if ((Crc32(data, fp) ^ kFingerprintXor) != Get32(data + fp + 4)) return false;
  }
  const size_t mi = static_cast<size_t>(req.integrityOffset);
  const uint16_t savedLen = Get16(data + 2);
  Put16(data + 2, static_cast<uint16_t>(mi + 24 - kStunHeaderSize));
  uint8_t mac[20];
  const bool ok = Hmac(password, data, mi, mac);
  Put16(data + 2, savedLen);
  return ok && CRYPTO_memcmp(mac, data + mi + 4, 20) == 0;
}

size_t StunWriteBindingSuccess(const StunRequest& req, const sockaddr* mapped, std::string_view password, uint8_t* out) {
  uint8_t* p = out + kStunHeaderSize;
  Put16(out, kBindingSuccess);
  Put32(out + 4, kStunMagicCookie);
  std::memcpy(out + 8, req.transactionId, 12);

  uint8_t addr[16];
  uint16_t port;
  bool v4;
  if (mapped->sa_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(mapped);
    std::memcpy(addr, &sin->sin_addr, 4);
    port = ntohs(sin->sin_port);
    v4 = true;
  } else if (mapped->sa_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(mapped);
    port = ntohs(sin6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      std::memcpy(addr, sin6->sin6_addr.s6_addr + 12, 4);
      v4 = true;
    } else {
      std::memcpy(addr, sin6->sin6_addr.s6_addr, 16);
      v4 = false;
    }
  } else {
    return 0;
  }
  // XOR-MAPPED-ADDRESS
  Put16(p, kAttrXorMappedAddress);
  Put16(p + 2, v4 ? 8 : 20);
  p[4] = 0;
  p[5] = v4 ? 0x01 : 0x02;
  Put16(p + 6, static_cast<uint16_t>(port ^ (kStunMagicCookie >> 16)));
  const uint8_t* key = out + 4;  // magic cookie then transaction id
  const size_t alen = v4 ? 4 : 16;
  for (size_t i = 0; i < alen; i++) p[8 + i] = addr[i] ^ key[i];
  p += 8 + alen;
  // MESSAGE-INTEGRITY: the header length covers up to its end while it is computed.
  const size_t mi = static_cast<size_t>(p - out);
  Put16(out + 2, static_cast<uint16_t>(mi + 24 - kStunHeaderSize));
  Put16(p, kAttrMessageIntegrity);
  Put16(p + 2, 20);
  if (!Hmac(password, out, mi, p + 4)) return 0;
  p += 24;
  // FINGERPRINT
  const size_t fp = static_cast<size_t>(p - out);
  Put16(out + 2, static_cast<uint16_t>(fp + 8 - kStunHeaderSize));
  Put16(p, kAttrFingerprint);
  Put16(p + 2, 4);
  Put32(p + 4, Crc32(out, fp) ^ kFingerprintXor);
  p += 8;
  return static_cast<size_t>(p - out);
}

}  // namespace convene
