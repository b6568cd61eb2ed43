#ifndef MESHGATE_CCRYPTO_SHIM_H
#define MESHGATE_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/ec.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/rsa.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/kdf.h>
#include <openssl/sha.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/crypto.h>

/* Composite macros Swift cannot import: expose them as constants. */
static inline int meshgate_evp_pkey_public_key(void) { return EVP_PKEY_PUBLIC_KEY; }
static inline int meshgate_evp_pkey_keypair(void) { return EVP_PKEY_KEYPAIR; }
#endif
