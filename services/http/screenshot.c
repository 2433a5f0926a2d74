/*
 * Screenshots in aurid-http: the executor sends the visible frame as a
 * sealed memfd; it is checked (seals, size), mapped read-only, encoded on
 * libuv's worker pool (BMP, PNG or JPEG) and written to the connection.
 */
#include "frontend.h"
#include "image.h"

#include "../common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SHOT_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL)
#define SHOT_DIM_MAX 8192

struct shot_job {
	uv_work_t work;
	struct http_conn *conn;
	struct ipc_screenshot_res res;
	enum image_format format;
	bool download;
	const uint8_t *frame;
	size_t frame_len;
	uint8_t *out;
	size_t out_len;
	int err;
};

/* The frame must be what the header says and immutable before it is read. */
static int shot_map(int fd, const struct ipc_screenshot_res *res, const uint8_t **frame, size_t *len)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	void *map;

	if (seals < 0 || (seals & SHOT_SEALS) != SHOT_SEALS)
		return -EPERM;
	if (res->width == 0 || res->height == 0 || res->width > SHOT_DIM_MAX || res->height > SHOT_DIM_MAX ||
	    res->stride < res->width * 4 || res->stride > SHOT_DIM_MAX * 4)
		return -EINVAL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != (uint64_t)res->stride * res->height)
		return -EINVAL;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return -errno;
	*frame = map;
	*len = (size_t)st.st_size;
	return 0;
}

static void encode_cb(uv_work_t *w)
{
	struct shot_job *j = w->data;

	j->err = image_encode(j->format, j->frame, j->res.width, j->res.height, j->res.stride, &j->out, &j->out_len);
}

/* Model name as a safe file name part. */
static void safe_name(char *out, size_t len, const char *in)
{
	size_t o = 0;

	for (; *in && o + 1 < len; in++) {
		char c = *in;

		out[o++] = ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.') ? c : '_';
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, len, "phone");
}

static void encoded_cb(uv_work_t *w, int status)
{
	struct shot_job *j = w->data;
	char extra[512], model[64], when[32];
	int n;

	munmap((void *)j->frame, j->frame_len);
	if (status || j->err) {
		log_err("screenshot encoding failed: %s", strerror(status ? -status : -j->err));
		http_respond(j->conn, 500, "text/plain; charset=utf-8", "", "500 Internal Server Error: encoding failed\n",
			     42);
		goto out;
	}
	n = snprintf(extra, sizeof(extra), "X-Request-Id: %llu\r\nCache-Control: no-store\r\n",
		     (unsigned long long)j->res.audit_seq);
	if (j->download) {
		time_t t = (time_t)j->res.captured;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm);
		safe_name(model, sizeof(model), j->res.model);
		snprintf(extra + n, sizeof(extra) - (size_t)n, "Content-Disposition: attachment; filename=\"%s-%s.%s\"\r\n",
			 model, when, image_ext(j->format));
	}
	http_respond(j->conn, 200, image_mime(j->format), extra, j->out, j->out_len);
out:
	free(j->out);
	free(j);
}

void screenshot_answer(struct frontend *fe, struct http_conn *conn, const struct ipc_screenshot_res *res, int fd,
		       int format, bool download)
{
	struct shot_job *j = calloc(1, sizeof(*j));
	int r;

	if (!j) {
		close(fd);
		http_respond(conn, 500, "text/plain", "", NULL, 0);
		return;
	}
	r = shot_map(fd, res, &j->frame, &j->frame_len);
	/* The mapping keeps the pages; the descriptor is not needed any more. */
	close(fd);
	if (r) {
		log_err("screenshot from the executor refused: %s", strerror(-r));
		free(j);
		http_respond(conn, 500, "text/plain; charset=utf-8", "", "500 Internal Server Error: bad frame\n", 37);
		return;
	}
	j->conn = conn;
	j->res = *res;
	j->format = (enum image_format)format;
	j->download = download;
	j->work.data = j;
	if (uv_queue_work(fe->loop, &j->work, encode_cb, encoded_cb) != 0) {
		munmap((void *)j->frame, j->frame_len);
		free(j);
		http_respond(conn, 500, "text/plain", "", NULL, 0);
	}
}
