/* libFuzzer target: golat serve's reading of a request head beyond its first line
 * (tools/serve_http.c: the Accept header, a target's ?pid=), on any bytes of the sizes
 * the server lets in (SERVE_REQ_MAX, NUL-terminated, no NUL inside). */
#include <stdint.h>
#include <string.h>

#include "serve.h"

#define REQ_MAX 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char req[REQ_MAX + 1];
	size_t n = size < REQ_MAX ? size : REQ_MAX;
	memcpy(req, data, n);
	req[n] = 0;
	(void)serve_wants_protobuf(req);
	uint32_t pid;
	(void)serve_query_pid(req, &pid);
	return 0;
}
