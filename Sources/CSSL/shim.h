#ifndef MESHGATE_CSSL_SHIM_H
#define MESHGATE_CSSL_SHIM_H
/* libssl for MeshTLS. Only glue lives here: OpenSSL macros that Swift cannot import become static inline
 * functions or constants. No cryptography is written here; libssl and libcrypto do all of it. */
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <openssl/core_names.h>

/* MARK: - Context settings (SSL_CTX_ctrl macros) */

static inline int meshgate_ssl_ctx_set_min_proto(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int meshgate_ssl_ctx_set_max_proto(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline int meshgate_tls1_2_version(void) { return TLS1_2_VERSION; }
static inline int meshgate_tls1_3_version(void) { return TLS1_3_VERSION; }

/* No renegotiation (a CPU amplification and a source of confusion about which identity a request carries), no
 * compression (CRIME), and no legacy server-side session cache: resumption goes through tickets only. */
static inline uint64_t meshgate_ssl_op_hardening(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
}
/* The server's cipher order wins (testssl.sh rates a server without one HIGH; every suite offered is AEAD and
 * forward-secret either way, and the list puts AES-GCM first for CPUs with AES-NI). */
static inline uint64_t meshgate_ssl_op_server_preference(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
/* Tickets off, for contexts that must not hand out resumable sessions. */
static inline uint64_t meshgate_ssl_op_no_ticket(void) { return SSL_OP_NO_TICKET; }

/* Idle keep-alive connections give their read/write buffers back (about 34 KiB each). */
static inline long meshgate_ssl_ctx_release_buffers(SSL_CTX *ctx) {
    return SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
}
static inline long meshgate_ssl_ctx_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}
static inline long meshgate_sess_cache_off(void) { return SSL_SESS_CACHE_OFF; }
static inline long meshgate_sess_cache_client(void) { return SSL_SESS_CACHE_CLIENT; }
static inline long meshgate_ssl_ctx_add1_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return SSL_CTX_add1_chain_cert(ctx, cert);
}

/* MARK: - Callbacks */

typedef int (*meshgate_servername_cb)(SSL *, int *, void *);
static inline void meshgate_ssl_ctx_set_servername_cb(SSL_CTX *ctx, meshgate_servername_cb cb, void *arg) {
    SSL_CTX_set_tlsext_servername_callback(ctx, cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, arg);
}
static inline int meshgate_tlsext_err_ok(void) { return SSL_TLSEXT_ERR_OK; }
static inline int meshgate_tlsext_err_noack(void) { return SSL_TLSEXT_ERR_NOACK; }
static inline int meshgate_tlsext_err_alert_fatal(void) { return SSL_TLSEXT_ERR_ALERT_FATAL; }
static inline int meshgate_ad_no_application_protocol(void) { return SSL_AD_NO_APPLICATION_PROTOCOL; }

/* Session ticket keys (SSL_CTX_set_tlsext_ticket_key_evp_cb): the key material is chosen in Swift; this sets it
 * on the contexts libssl hands us, in the way the OpenSSL manual's example does. */
/* The cipher is fetched from the provider once per process: EVP_aes_256_cbc() makes OpenSSL 3 look the
 * implementation up by name (a locked hash-table walk) on every init, i.e. on every ticket. */
static inline int meshgate_ticket_cipher_init(EVP_CIPHER_CTX *ctx, const unsigned char *key, const unsigned char *iv,
                                              int enc) {
    static EVP_CIPHER *cipher;
    EVP_CIPHER *fetched = __atomic_load_n(&cipher, __ATOMIC_ACQUIRE);
    if (fetched == NULL) {
        EVP_CIPHER *made = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
        if (made == NULL) return 0;
        EVP_CIPHER *expected = NULL;
        if (__atomic_compare_exchange_n(&cipher, &expected, made, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            fetched = made;
        } else {
            EVP_CIPHER_free(made);
            fetched = expected;
        }
    }
    return enc ? EVP_EncryptInit_ex2(ctx, fetched, key, iv, NULL) : EVP_DecryptInit_ex2(ctx, fetched, key, iv, NULL);
}
/* TLS 1.3 servers send two tickets by default (one per parallel connection a client might open); an HTTP/1.1
 * client resumes with one, and each costs a ticket encryption on every full handshake. */
static inline long meshgate_ssl_ctx_set_one_ticket(SSL_CTX *ctx) { return SSL_CTX_set_num_tickets(ctx, 1); }
static inline int meshgate_ticket_mac_init(EVP_MAC_CTX *hctx, const unsigned char *key, size_t key_length) {
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key, key_length);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    return EVP_MAC_CTX_set_params(hctx, params);
}
static inline int meshgate_ticket_iv_length(void) { return 16; }

/* MARK: - Connections */

static inline long meshgate_ssl_set_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
/* A memory BIO that reports EOF (0) instead of "retry" once the peer closed its side. */
static inline long meshgate_bio_set_mem_eof(BIO *bio) { return BIO_set_mem_eof_return(bio, 0); }

/* Bytes a memory BIO has allocated: it grows to its peak and never shrinks. Call only when it is empty (the
 * query first moves unread bytes to the front of the buffer). */
static inline size_t meshgate_bio_mem_capacity(BIO *bio) {
    BUF_MEM *memory = NULL;
    if (BIO_get_mem_ptr(bio, &memory) <= 0 || memory == NULL) return 0;
    return memory->max;
}

/* MARK: - Certificates */

static inline unsigned long meshgate_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }

/* The i-th entry of a GENERAL_NAMES stack: its type (GEN_DNS, GEN_URI, GEN_IPADD, ...) and, for string types,
 * its bytes. Returns 0 when i is out of range. */
static inline int meshgate_general_name(const GENERAL_NAMES *names, int i, int *type, const unsigned char **data,
                                        int *length) {
    if (i < 0 || i >= sk_GENERAL_NAME_num(names)) return 0;
    const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
    *type = name->type;
    *data = NULL;
    *length = 0;
    if (name->type == GEN_DNS || name->type == GEN_URI || name->type == GEN_EMAIL) {
        *data = ASN1_STRING_get0_data(name->d.ia5);
        *length = ASN1_STRING_length(name->d.ia5);
    } else if (name->type == GEN_IPADD) {
        *data = ASN1_STRING_get0_data(name->d.iPAddress);
        *length = ASN1_STRING_length(name->d.iPAddress);
    }
    return 1;
}
static inline int meshgate_general_names_count(const GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline int meshgate_gen_dns(void) { return GEN_DNS; }
static inline int meshgate_gen_uri(void) { return GEN_URI; }
static inline int meshgate_gen_ipadd(void) { return GEN_IPADD; }

static inline X509_NAME *meshgate_x509_name_stack_value(STACK_OF(X509_NAME) *stack, int i) {
    return sk_X509_NAME_value(stack, i);
}

/* MARK: - ACME (MeshACME: the CSR and the tls-alpn-01 certificate) */

/* STACK_OF(X509_EXTENSION) is made of macros Swift cannot import. */
static inline STACK_OF(X509_EXTENSION) *meshgate_extensions_new(void) { return sk_X509_EXTENSION_new_null(); }
static inline int meshgate_extensions_push(STACK_OF(X509_EXTENSION) *stack, X509_EXTENSION *extension) {
    return sk_X509_EXTENSION_push(stack, extension);
}
static inline void meshgate_extensions_free(STACK_OF(X509_EXTENSION) *stack) {
    sk_X509_EXTENSION_pop_free(stack, X509_EXTENSION_free);
}
static inline int meshgate_mbstring_asc(void) { return MBSTRING_ASC; }
#endif
