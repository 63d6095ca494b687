// Test-only access to SrtpSession internals (used by packages/media-native/test, never by the addon).
// Published test vectors (RFC 3711 B.2, RFC 7714 sections 16/17) give session keys and SRTCP indexes
// directly, so the tests need to bypass the key derivation and set the SRTCP index.
#pragma once

#include <cstddef>
#include <cstdint>

#include "srtp.h"

namespace convene {

struct SrtpTestAccess {
  // The AES-CM PRF of RFC 3711 section 4.3.1 (KDR 0): `label` keystream of `outLen` bytes from the master key
  // (16 or 32 bytes) and master salt (14 bytes, or 12 for the AEAD profiles: zero-padded, RFC 7714 erratum 4938).
  static bool DeriveKey(const uint8_t* masterKey, size_t keyLen, const uint8_t* masterSalt, size_t saltLen,
                        uint8_t label, uint8_t* out, size_t outLen);

  // Replaces the session keys after Init() (Init() must have succeeded with the same profile). Salts are 14 bytes
  // for AES-CM, 12 for GCM; auth keys (20 bytes) are ignored for GCM. Resets all per-SSRC state.
  static bool SetSessionKeys(SrtpSession& session, const uint8_t* rtpKey, const uint8_t* rtpSalt,
                             const uint8_t* rtpAuth, const uint8_t* rtcpKey, const uint8_t* rtcpSalt,
                             const uint8_t* rtcpAuth);

  // Sets the SRTCP index the next ProtectRtcp() uses (31 bits).
  static void SetNextRtcpIndex(SrtpSession& session, uint32_t index);

  // Bytes of heap the session's own structures hold (Impl, HMAC states, SSRC table); excludes OpenSSL's contexts.
  static size_t OwnHeapBytes(const SrtpSession& session);
  static size_t ImplSize();
};

}  // namespace convene
