/*
 * libFuzzer target for what aurictl shows of an answer (cmd/aurictl/main.c):
 * the rows (one JSON object each) printed as "key: value" pairs, audit
 * lines, tables or JSON lines, and the time arguments (parse_time,
 * parse_rfc3339).  Audit rows carry requests as they came from the
 * network, so whatever a row holds, aurictl must never write a byte that
 * drives the admin's terminal: C0 controls other than the line ends it
 * writes itself, DEL, or a C1 control in UTF-8.  --json output is ASCII,
 * one JSON value per line.
 *
 * main.c is included whole, with AURICTL_TEST, the route
 * tests/unit/test_aurictl_args.c takes.
 *
 * Input: byte 0 picks the printer (its low 3 bits: status, audit, trust
 * list, consent list, another verb; bit 3: --json); the rest is the answer,
 * one row a line.  The first line is also tried as a time argument.
 */
#define AURICTL_TEST
#include "cmd/aurictl/main.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort(), not assert(): the checks must stay in a release build. */
#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define NOW ((int64_t)1795773600)   /* 2026-11-27T10:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	(void)aurictl_main;   /* the rest of main.c is compiled, not run */
	return 0;
}

/* Nothing a terminal would act on, except the '\n' aurictl writes. */
static void check_terminal_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		CHECK(c == '\n' || (c >= 0x20 && c != 0x7f));
		if (c == 0xc2 && i + 1 < n)
			CHECK(!((unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f));
	}
}

static void check_json_lines(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	for (size_t i = 0; i < n; i++)
		CHECK(s[i] == '\n' || (s[i] >= 0x20 && s[i] < 0x7f));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t jerr;
		json_t *v;

		CHECK(nl);
		v = json_loadb(p, (size_t)(nl - p), JSON_DECODE_ANY, &jerr);
		CHECK(v);
		json_decref(v);
		p = nl + 1;
	}
}

static void check_time(const char *s)
{
	int64_t t = -1, again = -1;
	size_t len = strlen(s);
	int r = parse_time(s, NOW, &t);

	CHECK(r == 0 || r == -EINVAL);
	if (r)
		return;
	CHECK(t >= 0);
	if (strspn(s, "0123456789") == len) {
		CHECK(t == strtoll(s, NULL, 10));
	} else if (len > 4 && s[4] == '-') {
		/* RFC 3339: the same instant written in UTC reads back the same. */
		char buf[64];
		time_t tt = (time_t)t;
		struct tm tm;

		CHECK(gmtime_r(&tt, &tm));
		CHECK(strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
		CHECK(parse_time(buf, NOW, &again) == 0 && again == t);
	} else {
		CHECK(t <= NOW);   /* an age is before now */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned types[] = {
		IPC_ADMIN_STATUS, IPC_ADMIN_AUDIT, IPC_ADMIN_TRUST_LIST, IPC_ADMIN_CONSENT_LIST, IPC_ADMIN_USER_ADD,
	};
	struct printer pr;
	char *text, *line, *save = NULL, *outbuf = NULL, *errbuf = NULL;
	size_t outlen = 0, errlen = 0;
	FILE *out, *err, *saved_stderr;
	bool json;
	unsigned type;

	if (size < 1 || size > 4 * sizeof(((struct ipc_admin_row *)0)->json))
		return 0;
	type = types[(data[0] & 7) % (sizeof(types) / sizeof(types[0]))];
	json = data[0] & 8;
	text = malloc(size);
	CHECK(text);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';

	{
		size_t n = strcspn(text, "\n");
		char first[64];

		if (n < sizeof(first)) {
			memcpy(first, text, n);
			first[n] = '\0';
			check_time(first);
		}
	}

	out = open_memstream(&outbuf, &outlen);
	err = open_memstream(&errbuf, &errlen);
	CHECK(out && err);
	/* printer_row() reports a bad row on stderr: that is the admin's
	 * terminal too. */
	saved_stderr = stderr;
	stderr = err;
	printer_init(&pr, out, json, type);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_error_t jerr;
		json_t *v = json_loads(line, 0, &jerr);

		printer_row(&pr, line);
		/* Every value of an object on its own, as the table shows it. */
		if (json_is_object(v)) {
			const char *key;
			json_t *x;

			json_object_foreach(v, key, x) {
				char *s = value_text(key, x);

				CHECK(s);
				check_terminal_safe(s, strlen(s));
				CHECK(!strchr(s, '\n'));
				free(s);
			}
		}
		json_decref(v);
	}
	printer_finish(&pr, true);
	stderr = saved_stderr;
	fclose(out);
	fclose(err);

	if (json)
		check_json_lines(outbuf, outlen);
	else
		check_terminal_safe(outbuf, outlen);
	check_terminal_safe(errbuf, errlen);
	free(outbuf);
	free(errbuf);

	/* text_safe() on the raw bytes (up to the first NUL). */
	{
		char *raw = malloc(size), *s;

		CHECK(raw);
		memcpy(raw, data + 1, size - 1);
		raw[size - 1] = '\0';
		s = text_safe(raw);
		CHECK(s);
		CHECK(strlen(s) <= 4 * strlen(raw));
		check_terminal_safe(s, strlen(s));
		CHECK(!strchr(s, '\n'));
		free(s);
		free(raw);
	}
	free(text);
	return 0;
}
