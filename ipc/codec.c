/* Field-by-field encoding with a bounded cursor, driven by the message table. */
#include "ipc.h"

#include <errno.h>
#include <string.h>

void ipc_buf_init(struct ipc_buf *b, void *mem, size_t cap)
{
	b->p = mem;
	b->cap = cap;
	b->off = 0;
	b->err = 0;
}

static uint8_t *put_room(struct ipc_buf *b, size_t n)
{
	uint8_t *at;

	if (b->err)
		return NULL;
	if (n > b->cap - b->off) {
		b->err = -EMSGSIZE;
		return NULL;
	}
	at = b->p + b->off;
	b->off += n;
	return at;
}

static void put_le(struct ipc_buf *b, uint64_t v, size_t n)
{
	uint8_t *at = put_room(b, n);

	if (!at)
		return;
	for (size_t i = 0; i < n; i++)
		at[i] = (uint8_t)(v >> (8 * i));
}

void ipc_buf_put_u8(struct ipc_buf *b, uint8_t v) { put_le(b, v, 1); }
void ipc_buf_put_u16(struct ipc_buf *b, uint16_t v) { put_le(b, v, 2); }
void ipc_buf_put_u32(struct ipc_buf *b, uint32_t v) { put_le(b, v, 4); }
void ipc_buf_put_u64(struct ipc_buf *b, uint64_t v) { put_le(b, v, 8); }

void ipc_buf_put_str(struct ipc_buf *b, const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	uint8_t *at;

	if (n > max || n > UINT16_MAX) {
		if (!b->err)
			b->err = -EMSGSIZE;
		return;
	}
	put_le(b, n, 2);
	at = put_room(b, n);
	if (at)
		memcpy(at, s, n);
}

static const uint8_t *get_room(struct ipc_buf *b, size_t n)
{
	const uint8_t *at;

	if (b->err)
		return NULL;
	if (n > b->cap - b->off) {
		b->err = -EBADMSG;
		return NULL;
	}
	at = b->p + b->off;
	b->off += n;
	return at;
}

static int get_le(struct ipc_buf *b, uint64_t *v, size_t n)
{
	const uint8_t *at = get_room(b, n);

	*v = 0;
	if (!at)
		return b->err;
	for (size_t i = 0; i < n; i++)
		*v |= (uint64_t)at[i] << (8 * i);
	return 0;
}

int ipc_buf_get_u8(struct ipc_buf *b, uint8_t *v)
{
	uint64_t x;
	int r = get_le(b, &x, 1);

	*v = (uint8_t)x;
	return r;
}

int ipc_buf_get_u16(struct ipc_buf *b, uint16_t *v)
{
	uint64_t x;
	int r = get_le(b, &x, 2);

	*v = (uint16_t)x;
	return r;
}

int ipc_buf_get_u32(struct ipc_buf *b, uint32_t *v)
{
	uint64_t x;
	int r = get_le(b, &x, 4);

	*v = (uint32_t)x;
	return r;
}

int ipc_buf_get_u64(struct ipc_buf *b, uint64_t *v)
{
	return get_le(b, v, 8);
}

int ipc_buf_get_str(struct ipc_buf *b, char *out, size_t size)
{
	uint16_t n;
	const uint8_t *at;

	out[0] = '\0';
	if (ipc_buf_get_u16(b, &n))
		return b->err;
	if (n >= size) {
		b->err = -EBADMSG;
		return b->err;
	}
	at = get_room(b, n);
	if (!at)
		return b->err;
	if (memchr(at, '\0', n)) {
		b->err = -EBADMSG;
		return b->err;
	}
	memcpy(out, at, n);
	out[n] = '\0';
	return 0;
}

int ipc_buf_end(struct ipc_buf *b)
{
	if (b->err)
		return -EBADMSG;
	return b->off == b->cap ? 0 : -EBADMSG;
}

static void encode_fields(struct ipc_buf *b, const struct ipc_field *f, size_t n, const uint8_t *base)
{
	for (size_t i = 0; i < n; i++) {
		const void *at = base + f[i].offset;

		switch (f[i].kind) {
		case IPC_F_U8: ipc_buf_put_u8(b, *(const uint8_t *)at); break;
		case IPC_F_U16: ipc_buf_put_u16(b, *(const uint16_t *)at); break;
		case IPC_F_U32: ipc_buf_put_u32(b, *(const uint32_t *)at); break;
		case IPC_F_U64: ipc_buf_put_u64(b, *(const uint64_t *)at); break;
		case IPC_F_I64: ipc_buf_put_u64(b, (uint64_t)*(const int64_t *)at); break;
		case IPC_F_STR: ipc_buf_put_str(b, at, f[i].size - 1); break;
		case IPC_F_BYTES: {
			uint16_t count = *(const uint16_t *)(base + f[i].count_offset);
			uint8_t *to;

			if (count > f[i].size) {
				if (!b->err)
					b->err = -EMSGSIZE;
				return;
			}
			ipc_buf_put_u16(b, count);
			to = put_room(b, count);
			if (to)
				memcpy(to, at, count);
			break;
		}
		case IPC_F_ARRAY: {
			uint16_t count = *(const uint16_t *)(base + f[i].count_offset);

			if (count > f[i].max) {
				if (!b->err)
					b->err = -EMSGSIZE;
				return;
			}
			ipc_buf_put_u16(b, count);
			for (uint16_t k = 0; k < count; k++)
				encode_fields(b, f[i].sub, f[i].nsub, (const uint8_t *)at + k * f[i].size);
			break;
		}
		}
	}
}

static int decode_fields(struct ipc_buf *b, const struct ipc_field *f, size_t n, uint8_t *base)
{
	for (size_t i = 0; i < n && !b->err; i++) {
		void *at = base + f[i].offset;
		uint64_t v;

		switch (f[i].kind) {
		case IPC_F_U8: ipc_buf_get_u8(b, at); break;
		case IPC_F_U16: ipc_buf_get_u16(b, at); break;
		case IPC_F_U32: ipc_buf_get_u32(b, at); break;
		case IPC_F_U64: ipc_buf_get_u64(b, at); break;
		case IPC_F_I64:
			if (ipc_buf_get_u64(b, &v) == 0)
				*(int64_t *)at = (int64_t)v;
			break;
		case IPC_F_STR: ipc_buf_get_str(b, at, f[i].size); break;
		case IPC_F_BYTES: {
			uint16_t count;
			const uint8_t *from;

			if (ipc_buf_get_u16(b, &count))
				break;
			/* The length is checked against the array before any copy. */
			if (count > f[i].size) {
				b->err = -EBADMSG;
				break;
			}
			from = get_room(b, count);
			if (!from)
				break;
			memcpy(at, from, count);
			*(uint16_t *)(base + f[i].count_offset) = count;
			break;
		}
		case IPC_F_ARRAY: {
			uint16_t count;

			if (ipc_buf_get_u16(b, &count))
				break;
			if (count > f[i].max) {
				b->err = -EBADMSG;
				break;
			}
			*(uint16_t *)(base + f[i].count_offset) = count;
			for (uint16_t k = 0; k < count && !b->err; k++)
				decode_fields(b, f[i].sub, f[i].nsub, (uint8_t *)at + k * f[i].size);
			break;
		}
		}
	}
	return b->err;
}

int ipc_encode(unsigned type, uint32_t id, const void *msg, void *out, size_t cap, size_t *len)
{
	const struct ipc_msg_def *d = ipc_msg_def(type);
	struct ipc_buf b;

	*len = 0;
	if (!d)
		return -EINVAL;
	if (cap > IPC_MSG_MAX)
		cap = IPC_MSG_MAX;
	ipc_buf_init(&b, out, cap);
	ipc_buf_put_u16(&b, (uint16_t)type);
	ipc_buf_put_u16(&b, 0);
	ipc_buf_put_u32(&b, id);
	encode_fields(&b, d->fields, d->nfields, msg);
	if (b.err)
		return b.err;
	*len = b.off;
	return 0;
}

int ipc_decode(const void *data, size_t len, unsigned *type, uint32_t *id, union ipc_payload *msg)
{
	const struct ipc_msg_def *d;
	struct ipc_buf b;
	uint16_t t, zero;

	*type = 0;
	*id = 0;
	if (len < IPC_HDR_LEN || len > IPC_MSG_MAX)
		return -EBADMSG;
	ipc_buf_init(&b, (void *)data, len);
	ipc_buf_get_u16(&b, &t);
	ipc_buf_get_u16(&b, &zero);
	ipc_buf_get_u32(&b, id);
	d = ipc_msg_def(t);
	/* Size is checked against the table before any field is looked at. */
	if (!d || zero != 0 || len - IPC_HDR_LEN < d->min_len || len - IPC_HDR_LEN > d->max_len)
		return -EBADMSG;
	memset(msg, 0, d->struct_size);
	if (decode_fields(&b, d->fields, d->nfields, (uint8_t *)msg) || ipc_buf_end(&b))
		return -EBADMSG;
	*type = t;
	return 0;
}
