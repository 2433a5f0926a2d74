/*
 * BoringSSL and OpenSSL must never share a process (they clash and crash).
 * Processes that link BoringSSL check at start that the library they got is
 * BoringSSL, so a build that silently linked the system OpenSSL fails loudly.
 */
#ifndef AURID_BORINGSSL_CHECK_H
#define AURID_BORINGSSL_CHECK_H

#include <openssl/crypto.h>
#include <string.h>

#ifndef OPENSSL_IS_BORINGSSL
#error "aurid-http and aurid-exec must be compiled against BoringSSL (/usr/include/android)"
#endif

/* 0 if the crypto library in this process is BoringSSL. */
static inline int boringssl_check(void)
{
	return strcmp(OpenSSL_version(OPENSSL_VERSION), "BoringSSL") == 0 ? 0 : -1;
}

#endif
