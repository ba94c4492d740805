// A small HTTP(S) client over cpp-httplib, for the URL bundle source and the HTTP decision
// log sink.
#pragma once

#include <string>
#include <vector>

namespace pave::server {

struct HttpResponse {
  bool ok = false;        // a response arrived (any status)
  int status = 0;
  std::string body;
  std::string etag;
  std::string error;      // when !ok
};

// Whether `url` is `http(s)://host[:port][/path]`; false with `error` otherwise.
bool validHttpUrl(const std::string& url, std::string* error);
// GET with optional `If-None-Match`; bodies over `maxBody` bytes fail.
HttpResponse httpGet(const std::string& url, const std::string& ifNoneMatch, size_t maxBody, int timeoutS);
// POST `body` with `contentType` and extra `Name: value` headers.
HttpResponse httpPost(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                      const std::string& contentType, int timeoutS);

}  // namespace pave::server
