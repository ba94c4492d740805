#include "http_client.h"

#include <httplib.h>

namespace pave::server {
namespace {

struct Parts {
  std::string origin;  // scheme://host[:port]
  std::string path;    // "/…"
};

bool split(const std::string& url, Parts& out, std::string* error) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos || (url.compare(0, scheme, "http") != 0 && url.compare(0, scheme, "https") != 0)) {
    if (error) *error = "`" + url + "` is not an http:// or https:// URL";
    return false;
  }
  size_t slash = url.find('/', scheme + 3);
  out.origin = url.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : url.substr(slash);
  if (out.origin.size() <= scheme + 3) {
    if (error) *error = "`" + url + "` has no host";
    return false;
  }
  return true;
}

httplib::Headers headersOf(const std::vector<std::string>& lines) {
  httplib::Headers h;
  for (const std::string& line : lines) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(' ', colon + 1);
    h.emplace(line.substr(0, colon), v == std::string::npos ? "" : line.substr(v));
  }
  return h;
}

HttpResponse convert(const httplib::Result& r) {
  HttpResponse out;
  if (!r) {
    out.error = httplib::to_string(r.error());
    return out;
  }
  out.ok = true;
  out.status = r->status;
  out.body = r->body;
  out.etag = r->get_header_value("ETag");
  return out;
}

// A client for `origin` with the same limit on connecting, reading and writing.
std::unique_ptr<httplib::Client> client(const std::string& origin, int timeoutS) {
  auto cli = std::make_unique<httplib::Client>(origin);
  cli->set_connection_timeout(timeoutS);
  cli->set_read_timeout(timeoutS);
  cli->set_write_timeout(timeoutS);
  return cli;
}

}  // namespace

bool validHttpUrl(const std::string& url, std::string* error) {
  Parts p;
  return split(url, p, error);
}

HttpResponse httpGet(const std::string& url, const std::string& ifNoneMatch, size_t maxBody, int timeoutS) {
  Parts p;
  HttpResponse out;
  if (!split(url, p, &out.error)) return out;
  auto cli = client(p.origin, timeoutS);
  cli->set_follow_location(true);
  httplib::Headers h;
  if (!ifNoneMatch.empty()) h.emplace("If-None-Match", ifNoneMatch);
  std::string body;
  bool tooLarge = false;
  auto r = cli->Get(p.path, h, [&](const char* data, size_t n) {
    if (body.size() + n > maxBody) {
      tooLarge = true;
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (tooLarge) {
    out.error = "the response is larger than " + std::to_string(maxBody) + " bytes";
    return out;
  }
  out = convert(r);
  if (out.ok) out.body = std::move(body);
  return out;
}

HttpResponse httpPost(const std::string& url, const std::vector<std::string>& headers, const std::string& body,
                      const std::string& contentType, int timeoutS) {
  Parts p;
  HttpResponse out;
  if (!split(url, p, &out.error)) return out;
  return convert(client(p.origin, timeoutS)->Post(p.path, headersOf(headers), body, contentType));
}

}  // namespace pave::server
