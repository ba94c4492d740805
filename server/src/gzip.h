// gzip (RFC 1952) through zlib, for decision log batches sent to a collector.
#pragma once

#include <string>
#include <string_view>

namespace pave::server {

bool gzipCompress(std::string_view in, std::string& out);
// For tests and for collectors written in C++: false on a malformed stream or when the
// output would exceed `maxOut` bytes.
bool gzipDecompress(std::string_view in, std::string& out, size_t maxOut);

}  // namespace pave::server
