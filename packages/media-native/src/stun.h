// STUN (RFC 5389/8489) for an ICE-lite agent (RFC 8445 section 2.5): parse and authenticate Binding requests,
// write Binding success responses. Short-term credentials only: the key is the local ICE password.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

struct sockaddr;

namespace convene {

constexpr uint32_t kStunMagicCookie = 0x2112a442;
constexpr size_t kStunHeaderSize = 20;
// A success response: header + XOR-MAPPED-ADDRESS (v6: 24) + MESSAGE-INTEGRITY (24) + FINGERPRINT (8).
constexpr size_t kStunMaxResponseSize = 20 + 24 + 24 + 8;

struct StunRequest {
  const uint8_t* transactionId = nullptr;  // 12 bytes inside the message
  std::string_view username;               // USERNAME value ("<local ufrag>:<remote ufrag>")
  int integrityOffset = -1;                // offset of the MESSAGE-INTEGRITY attribute header, -1 when absent
  int fingerprintOffset = -1;              // offset of the FINGERPRINT attribute header, -1 when absent
  bool useCandidate = false;
  bool iceControlling = false;
  bool iceControlled = false;
  uint32_t priority = 0;
};

// True when `data` is one well-formed STUN Binding request (header, cookie, length, attribute framing);
// fills `out`. Does not authenticate.
bool StunParseBindingRequest(const uint8_t* data, size_t len, StunRequest* out);

// The local ufrag of a USERNAME "<local>:<remote>" (the part before the first ':'), or the whole value.
std::string_view StunLocalUfrag(std::string_view username);

// Verifies MESSAGE-INTEGRITY (HMAC-SHA1 keyed with `password`) and, when present, FINGERPRINT.
// `data` is modified temporarily (the header length) and restored. Requires a parsed request.
bool StunVerify(uint8_t* data, size_t len, const StunRequest& req, std::string_view password);

// Writes a Binding success response for `req` into `out` (>= kStunMaxResponseSize bytes) with XOR-MAPPED-ADDRESS
// `mapped` (AF_INET or AF_INET6; a v4-mapped IPv6 address is written as IPv4), MESSAGE-INTEGRITY and FINGERPRINT.
// Returns its length, or 0 for an unsupported address family.
size_t StunWriteBindingSuccess(const StunRequest& req, const sockaddr* mapped, std::string_view password, uint8_t* out);

// CRC-32 (ISO-HDLC, as zlib's crc32) of `len` bytes.
uint32_t Crc32(const uint8_t* data, size_t len);

}  // namespace convene
