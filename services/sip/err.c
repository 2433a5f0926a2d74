/*
 * libre's error convention, converted once.  libre returns 0 or a positive
 * errno value (ENOMEM, EINVAL ...); aurid returns 0 or -errno everywhere.
 * Every call into libre that returns an error goes through sip_err(), so no
 * other file has to remember which convention a value is in.
 */
#include "front.h"

int sip_err(int re_err)
{
	return re_err > 0 ? -re_err : re_err;
}
