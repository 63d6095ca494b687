#include "dtls.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <cstring>
#include <strings.h>

namespace convene {

namespace {

DtlsWriteFn g_write = nullptr;
DtlsReadFn g_read = nullptr;

std::string LastError(const char* what) {
  std::string s = what;
  const unsigned long e = ERR_get_error();
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    s += ": ";
    s += buf;
  }
  ERR_clear_error();
  return s;
}

// A self-signed certificate for `key`, valid 30 days back and forward (clocks of peers differ).
X509* MakeCertificate(EVP_PKEY* key) {
  X509* x = X509_new();
  if (x == nullptr) return nullptr;
  bool ok = X509_set_version(x, 2) == 1;
  uint8_t serial[8];
  BIGNUM* bn = nullptr;
  if (ok) ok = RAND_bytes(serial, sizeof serial) == 1;
  if (ok) {
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, nullptr);
    ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != nullptr;
  }
  BN_free(bn);
  if (ok) ok = X509_gmtime_adj(X509_getm_notBefore(x), -30L * 86400) != nullptr;
  if (ok) ok = X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) != nullptr;
  if (ok) ok = X509_set_pubkey(x, key) == 1;
  X509_NAME* name = ok ? X509_get_subject_name(x) : nullptr;
  if (ok) ok = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("convene"), -1, -1, 0) == 1;
  if (ok) ok = X509_set_issuer_name(x, name) == 1;
  if (ok) ok = X509_sign(x, key, EVP_sha256()) > 0;
  if (!ok) {
    X509_free(x);
    return nullptr;
  }
  return x;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool DtlsDeriveGcmKeys(SSL* ssl, DtlsGcmKeys* client, DtlsGcmKeys* server) {
  const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl);
  if (cipher == nullptr) return false;
  const int nid = SSL_CIPHER_get_cipher_nid(cipher);
  size_t keyLen;
  if (nid == NID_aes_128_gcm) {
    keyLen = 16;
  } else if (nid == NID_aes_256_gcm) {
    keyLen = 32;
  } else {
    return false;
  }
  const EVP_MD* md = SSL_CIPHER_get_handshake_digest(cipher);
  SSL_SESSION* session = SSL_get_session(ssl);
  if (md == nullptr || session == nullptr) return false;
  uint8_t master[SSL_MAX_MASTER_KEY_LENGTH];
  const size_t masterLen = SSL_SESSION_get_master_key(session, master, sizeof master);
  // seed = "key expansion" + server_random + client_random
  uint8_t seed[13 + 32 + 32];
  std::memcpy(seed, "key expansion", 13);
  if (masterLen == 0 || SSL_get_server_random(ssl, seed + 13, 32) != 32 || SSL_get_client_random(ssl, seed + 45, 32) != 32) {
    OPENSSL_cleanse(master, sizeof master);
    return false;
  }
  uint8_t block[2 * 32 + 2 * 4];
  const size_t blockLen = 2 * keyLen + 8;
  bool ok = false;
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_TLS1_PRF, nullptr);
  EVP_KDF_CTX* kctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  if (kctx != nullptr) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>(EVP_MD_get0_name(md)), 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, masterLen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
        OSSL_PARAM_construct_end(),
    };
    ok = EVP_KDF_derive(kctx, block, blockLen, params) == 1;
  }
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
  OPENSSL_cleanse(master, sizeof master);
  ERR_clear_error();
  if (ok) {
    // AEAD: no MAC keys. client_write_key, server_write_key, client_write_IV, server_write_IV.
    std::memcpy(client->key, block, keyLen);
    std::memcpy(server->key, block + keyLen, keyLen);
    std::memcpy(client->salt, block + 2 * keyLen, 4);
    std::memcpy(server->salt, block + 2 * keyLen + 4, 4);
    client->keyLen = server->keyLen = static_cast<uint8_t>(keyLen);
  }
  OPENSSL_cleanse(block, sizeof block);
  return ok;
}

int DtlsGcmOpen(const DtlsGcmKeys& keys, const uint8_t* rec, size_t len, uint8_t* out, size_t cap, size_t* recordLen) {
  constexpr size_t kHeader = 13, kExplicit = 8, kTag = 16;
  if (len < kHeader) return -1;
  const size_t fragment = (static_cast<size_t>(rec[11]) << 8) | rec[12];
  *recordLen = kHeader + fragment;
  if (kHeader + fragment > len || fragment < kExplicit + kTag || keys.keyLen == 0) return -1;
  const size_t plainLen = fragment - kExplicit - kTag;
  if (plainLen > cap) return -1;
  uint8_t nonce[12];
  std::memcpy(nonce, keys.salt, 4);
  std::memcpy(nonce + 4, rec + kHeader, kExplicit);
  // additional_data = epoch + sequence (8) + type (1) + version (2) + plaintext length (2)
  uint8_t aad[13];
  std::memcpy(aad, rec + 3, 8);
  aad[8] = rec[0];
  aad[9] = rec[1];
  aad[10] = rec[2];
  aad[11] = static_cast<uint8_t>(plainLen >> 8);
  aad[12] = static_cast<uint8_t>(plainLen);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return -1;
  int n = 0, fin = 0;
  const uint8_t* ct = rec + kHeader + kExplicit;
  bool ok = EVP_DecryptInit_ex(ctx, keys.keyLen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm(), nullptr, keys.key, nonce) == 1 &&
            EVP_DecryptUpdate(ctx, nullptr, &n, aad, sizeof aad) == 1 &&
            EVP_DecryptUpdate(ctx, out, &n, ct, static_cast<int>(plainLen)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTag, const_cast<uint8_t*>(ct + plainLen)) == 1 &&
            EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  ERR_clear_error();
  return ok ? static_cast<int>(plainLen) : -1;
}

namespace {

// Smallest valid epoch-1 record body for the negotiated cipher (or the largest AEAD overhead when none yet).
size_t MinProtectedRecord(const SSL* ssl) {
  constexpr size_t kGcmOverhead = 8 + 16;  // explicit nonce + tag
  const SSL_CIPHER* cipher = ssl != nullptr ? SSL_get_current_cipher(ssl) : nullptr;
  if (cipher == nullptr) return kGcmOverhead;
  if (SSL_CIPHER_is_aead(cipher)) {
    const int nid = SSL_CIPHER_get_cipher_nid(cipher);
    return nid == NID_chacha20_poly1305 ? 16 : kGcmOverhead;
  }
  // CBC: explicit IV, then MAC and at least one byte of padding, in whole blocks.
  const EVP_MD* mac = EVP_get_digestbynid(SSL_CIPHER_get_digest_nid(cipher));
  const size_t macLen = mac != nullptr ? static_cast<size_t>(EVP_MD_get_size(mac)) : 20;
  return 16 + ((macLen + 1 + 15) / 16) * 16;
}

}  // namespace

bool DtlsDatagramPlausible(const SSL* ssl, const uint8_t* data, size_t len, int* epoch1Records) {
  constexpr size_t kHeader = 13;
  constexpr size_t kHandshakeHeader = 12;
  if (len < kHeader) return false;
  size_t minProtected = 0;  // computed on the first epoch-1 record
  int epoch1 = 0;
  size_t off = 0;
  while (off < len) {
    if (len - off < kHeader) return false;
    const uint8_t* rec = data + off;
    const size_t body = (static_cast<size_t>(rec[11]) << 8) | rec[12];
    if (body > len - off - kHeader) return false;
    if (rec[0] < 20 || rec[0] > 23 || rec[1] != 0xfe) return false;
    const unsigned epoch = (static_cast<unsigned>(rec[3]) << 8) | rec[4];
    if (epoch > 1) return false;
    if (epoch == 1) {
      if (minProtected == 0) minProtected = MinProtectedRecord(ssl);
      if (body < minProtected) return false;
      epoch1++;
    } else if (rec[0] == 22) {
      // Plaintext handshake fragment(s): the message length OpenSSL would allocate for reassembly.
      for (size_t p = 0; p < body;) {
        if (body - p < kHandshakeHeader) return false;
        const uint8_t* h = rec + kHeader + p;
        const uint32_t msgLen = (static_cast<uint32_t>(h[1]) << 16) | (static_cast<uint32_t>(h[2]) << 8) | h[3];
        const size_t fragLen = (static_cast<size_t>(h[9]) << 16) | (static_cast<size_t>(h[10]) << 8) | h[11];
        if (msgLen > kDtlsMaxHandshakeMessage || fragLen > body - p - kHandshakeHeader) return false;
        p += kHandshakeHeader + fragLen;
      }
    }
    off += kHeader + body;
  }
  if (epoch1Records != nullptr) *epoch1Records = epoch1;
  return true;
}

bool DtlsIsClientHello(const uint8_t* data, size_t len) {
  // record header (13) + handshake header (12): type 22, epoch 0, msg_type 1
  return len >= 25 && data[0] == 22 && data[1] == 0xfe && data[3] == 0 && data[4] == 0 && data[13] == 1;
}

const EVP_MD* FingerprintDigest(std::string_view algorithm) {
  auto is = [&](const char* name) { return algorithm.size() == std::strlen(name) && strncasecmp(algorithm.data(), name, algorithm.size()) == 0; };
  if (is("sha-256")) return EVP_sha256();
  if (is("sha-1")) return EVP_sha1();
  if (is("sha-384")) return EVP_sha384();
  if (is("sha-512")) return EVP_sha512();
  return nullptr;
}

bool ParseFingerprint(std::string_view text, uint8_t* out, size_t expected) {
  // Exactly expected*3-1 chars: "XX:XX:...:XX".
  if (expected == 0 || text.size() != expected * 3 - 1) return false;
  for (size_t i = 0; i < expected; i++) {
    const int hi = HexValue(text[i * 3]);
    const int lo = HexValue(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return false;
    if (i + 1 < expected && text[i * 3 + 2] != ':') return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

std::string FormatFingerprint(const uint8_t* bytes, size_t len) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s;
  s.reserve(len * 3);
  for (size_t i = 0; i < len; i++) {
    if (i > 0) s += ':';
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 15];
  }
  return s;
}

DtlsContext* DtlsContext::Create(DtlsWriteFn write, DtlsReadFn read, SSL_verify_cb verify, void (*info)(const SSL*, int, int), std::string* error) {
  g_write = write;
  g_read = read;
  ERR_clear_error();
  DtlsContext* d = new DtlsContext();
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  bool ok = false;
  do {
    d->ctx_ = SSL_CTX_new(DTLS_method());
    if (d->ctx_ == nullptr) {
      *error = LastError("SSL_CTX_new");
      break;
    }
    SSL_CTX* ctx = d->ctx_;
    if (SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) != 1) {
      *error = LastError("SSL_CTX_set_min_proto_version");
      break;
    }
    key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    if (key == nullptr) {
      *error = LastError("EC key generation");
      break;
    }
    cert = MakeCertificate(key);
    if (cert == nullptr) {
      *error = LastError("certificate");
      break;
    }
    if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
      *error = LastError("SSL_CTX_use_certificate");
      break;
    }
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned int mdLen = 0;
    if (X509_digest(cert, EVP_sha256(), md, &mdLen) != 1) {
      *error = LastError("X509_digest");
      break;
    }
    d->fingerprint_ = FormatFingerprint(md, mdLen);
    // SSL_CTX_set_tlsext_use_srtp returns 0 on success.
    if (SSL_CTX_set_tlsext_use_srtp(ctx, kSrtpProfiles) != 0) {
      *error = LastError("SSL_CTX_set_tlsext_use_srtp");
      break;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify);
    SSL_CTX_set_verify_depth(ctx, 4);
    if (info != nullptr) SSL_CTX_set_info_callback(ctx, info);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_read_ahead(ctx, 1);
    // ECDHE only; our certificate is ECDSA, the peer's (as client, or as server when we are the client) may be RSA.
    SSL_CTX_set_cipher_list(ctx,
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
                            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-RSA-AES256-SHA");
    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384");
    d->bioMethod_ = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "convene-dgram");
    if (d->bioMethod_ == nullptr) {
      *error = LastError("BIO_meth_new");
      break;
    }
    BIO_meth_set_write(d->bioMethod_, BioWrite);
    BIO_meth_set_read(d->bioMethod_, BioRead);
    BIO_meth_set_ctrl(d->bioMethod_, BioCtrl);
    BIO_meth_set_create(d->bioMethod_, BioCreate);
    BIO_meth_set_destroy(d->bioMethod_, BioDestroy);
    ok = true;
  } while (false);
  X509_free(cert);
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (!ok) {
    delete d;
    return nullptr;
  }
  return d;
}

DtlsContext::~DtlsContext() {
  SSL_CTX_free(ctx_);
  BIO_meth_free(bioMethod_);
}

SSL* DtlsContext::NewSsl(void* app, bool client) {
  ERR_clear_error();
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  BIO* bio = BIO_new(bioMethod_);
  if (bio == nullptr) {
    SSL_free(ssl);
    ERR_clear_error();
    return nullptr;
  }
  BIO_set_data(bio, app);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);
  SSL_set_app_data(ssl, app);
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl, kDtlsMtu);
  if (client) {
    SSL_set_connect_state(ssl);
  } else {
    SSL_set_accept_state(ssl);
  }
  return ssl;
}

int DtlsContext::BioCreate(BIO* bio) {
  BIO_set_init(bio, 0);
  BIO_set_data(bio, nullptr);
  return 1;
}

int DtlsContext::BioDestroy(BIO* bio) {
  BIO_set_data(bio, nullptr);
  return 1;
}

int DtlsContext::BioWrite(BIO* bio, const char* data, int len) {
  BIO_clear_retry_flags(bio);
  void* app = BIO_get_data(bio);
  if (app != nullptr && len > 0 && g_write != nullptr) g_write(app, reinterpret_cast<const uint8_t*>(data), static_cast<size_t>(len));
  return len;  // a datagram that could not be sent is lost, as on the network
}

int DtlsContext::BioRead(BIO* bio, char* out, int cap) {
  BIO_clear_retry_flags(bio);
  void* app = BIO_get_data(bio);
  const int n = (app != nullptr && cap > 0 && g_read != nullptr) ? g_read(app, reinterpret_cast<uint8_t*>(out), static_cast<size_t>(cap)) : -1;
  if (n < 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  return n;
}

long DtlsContext::BioCtrl(BIO* /*bio*/, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
      return kDtlsMtu;
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
      return 0;
    default:
      return 0;
  }
}

}  // namespace convene
