// pave._native: the C API (pave/vm.h) for Python. The pure-Python layer (pave/__init__.py)
// builds the public API on it. Deciding releases the GIL; a reader-writer lock lets any
// number of threads decide at once while close() waits for them and then frees the bundle.
#include <nanobind/nanobind.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>

#include "pave/vm.h"

namespace nb = nanobind;

namespace {

// Raised with the runtime's message; the Python layer turns it into the right type.
struct OpenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Result {
  char* p = nullptr;
  ~Result() { pave_free(p); }
};

class NativeBundle {
 public:
  explicit NativeBundle(pave_bundle* b) : b_(b) {}
  ~NativeBundle() { pave_close(b_); }
  NativeBundle(const NativeBundle&) = delete;
  NativeBundle& operator=(const NativeBundle&) = delete;

  static NativeBundle* openBytes(nb::bytes data, std::optional<std::string> keys) {
    pave_bundle* b;
    {
      nb::gil_scoped_release release;
      b = pave_open(reinterpret_cast<const uint8_t*>(data.c_str()), data.size(), keys ? keys->c_str() : nullptr);
    }
    if (!b) throw OpenError(pave_last_error());
    return new NativeBundle(b);
  }

  static NativeBundle* openFile(const std::string& path, std::optional<std::string> keys) {
    pave_bundle* b;
    {
      nb::gil_scoped_release release;
      b = pave_open_file(path.c_str(), keys ? keys->c_str() : nullptr);
    }
    if (!b) throw OpenError(pave_last_error());
    return new NativeBundle(b);
  }

  // `input` is str (UTF-8 taken without a copy where CPython has it) or bytes.
  nb::str decide(nb::handle input, bool explain) {
    const char* data;
    Py_ssize_t size;
    if (PyUnicode_Check(input.ptr())) {
      data = PyUnicode_AsUTF8AndSize(input.ptr(), &size);
      if (!data) throw nb::python_error();
    } else if (PyBytes_Check(input.ptr())) {
      data = PyBytes_AS_STRING(input.ptr());
      size = PyBytes_GET_SIZE(input.ptr());
    } else {
      throw nb::type_error("input must be str, bytes or a JSON-serializable dict");
    }
    Result r;
    bool closed = false;
    {
      nb::gil_scoped_release release;
      std::shared_lock lock(mu_);
      if (!b_) closed = true;
      else r.p = pave_decide(b_, data, static_cast<size_t>(size), explain ? 1 : 0);
    }
    if (closed) throw nb::value_error("the bundle is closed");
    if (!r.p) throw std::runtime_error(pave_last_error());  // same thread: its last error
    return nb::str(r.p);
  }

  nb::str info() {
    std::shared_lock lock(mu_);
    if (!b_) throw nb::value_error("the bundle is closed");
    Result r;
    r.p = pave_bundle_info(b_);
    if (!r.p) throw std::runtime_error(pave_last_error());
    return nb::str(r.p);
  }

  void close() {
    pave_bundle* b;
    {
      nb::gil_scoped_release release;  // deciding threads may need the GIL to finish
      std::unique_lock lock(mu_);
      b = b_;
      b_ = nullptr;
    }
    pave_close(b);
  }

  bool closed() {
    std::shared_lock lock(mu_);
    return b_ == nullptr;
  }

 private:
  pave_bundle* b_;
  std::shared_mutex mu_;
};

}  // namespace

NB_MODULE(_native, m) {
  m.doc() = "Pave runtime C API (internal: use the pave package)";
  nb::exception<OpenError>(m, "OpenError", PyExc_ValueError);
  nb::class_<NativeBundle>(m, "NativeBundle")
      .def_static("open_bytes", &NativeBundle::openBytes, nb::arg("data"), nb::arg("keys").none())
      .def_static("open_file", &NativeBundle::openFile, nb::arg("path"), nb::arg("keys").none())
      .def("decide", &NativeBundle::decide, nb::arg("input"), nb::arg("explain") = false)
      .def("info", &NativeBundle::info)
      .def("close", &NativeBundle::close)
      .def_prop_ro("closed", &NativeBundle::closed);
  m.def("version", [] { return std::string(pave_version()); });
}
