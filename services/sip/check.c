/*
 * BoringSSL and OpenSSL must never share a process (DESIGN.md section 1):
 * they clash and crash.  libre brings OpenSSL into aurid-sip, so this
 * process refuses to run if a BoringSSL library was loaded all the same (a
 * link that pulled a BoringSSL-using library in).  Debian's BoringSSL is
 * the Android build: libcrypto.so.0 / libssl.so.0 in an "android" directory.
 */
#include "front.h"

#include <errno.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

struct check {
	char found[256];
};

static int check_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct check *c = arg;
	const char *path = info->dlpi_name;
	const char *base;

	(void)size;
	if (!path || !*path)
		return 0;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, "libcrypto.so.0", 14) == 0 || strncmp(base, "libssl.so.0", 11) == 0 ||
	    strstr(path, "/android/")) {
		snprintf(c->found, sizeof(c->found), "%s", path);
		return 1;
	}
	return 0;
}

int sip_check_no_boringssl(char *err, size_t errlen)
{
	struct check c = { "" };

	if (dl_iterate_phdr(check_object, &c) == 0)
		return 0;
	snprintf(err, errlen, "BoringSSL is loaded (%s) next to libre's OpenSSL", c.found);
	return -EPERM;
}
