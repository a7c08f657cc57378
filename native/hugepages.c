// ffnskip's one native helper (optional): advise the kernels' WebAssembly
// memory to use transparent huge pages, madvise(MADV_HUGEPAGE). V8 reserves
// a shared wasm memory's whole address range up front and never advises it,
// so on the common THP mode "madvise" the weights sit in 4 KiB pages, where
// streaming gigabytes of weights per token pays a TLB miss every 4 KiB
// (llama.cpp's weights are the file's page cache, which the kernel maps with
// large folios). Built at install by scripts/build-native.mjs when a C
// compiler and Node's headers are there; src/kernels/hugepages.ts loads it
// and goes on without it when it is not.
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

// advise(view: TypedArray, bytes: number): 0, or the errno of madvise. The
// range starts at the view's first byte (rounded up to a page) and runs for
// `bytes` (rounded down to a page): the caller passes a view at the start of
// the memory and the memory's reserved size, so pages committed later by
// memory.grow are covered too (the advice is a property of the mapping).
static napi_value Advise(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "advise(view, bytes): two arguments expected");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value buffer;
  double bytes;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &buffer, &offset) != napi_ok ||
      napi_get_value_double(env, argv[1], &bytes) != napi_ok || !(bytes >= 0)) {
    napi_throw_type_error(env, NULL, "advise(view, bytes): a typed array and a byte count expected");
    return NULL;
  }
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  const uintptr_t start = ((uintptr_t)data + page - 1) & ~(page - 1);
  const uintptr_t end = ((uintptr_t)data + (uintptr_t)bytes) & ~(page - 1);
  int err = 0;
#ifdef MADV_HUGEPAGE
  if (end > start && madvise((void *)start, end - start, MADV_HUGEPAGE) != 0) err = errno;
#else
  err = ENOSYS;
#endif
  napi_value out;
  napi_create_int32(env, err, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "advise", NAPI_AUTO_LENGTH, Advise, NULL, &fn);
  napi_set_named_property(env, exports, "advise", fn);
  return exports;
}
