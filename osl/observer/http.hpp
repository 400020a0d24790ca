// http.hpp - the part of HTTP/1.1 the observer needs: a GET request read
// from a connection's bytes, and a whole response written at once, the
// connection closed after it (Connection: close). No keep-alive, no
// chunks, no bodies in requests.
#pragma once

#include <cstddef>
#include <string>

namespace airs::osl {

// Most bytes of a request head; a longer one gets 431 and the close.
constexpr size_t kHeadMax = 8192;

struct Request {
  std::string method;
  std::string path;   // without the query
  std::string query;  // after '?', or ""
};

enum class Parse { kMore, kDone, kBad, kTooLarge };

// Reads the request head at the start of `bytes` (a connection's bytes so
// far). kMore: not complete yet. kDone fills *out.
Parse parse_request(const std::string& bytes, Request* out);

// A whole response: status line, Content-Type, Content-Length, no cache,
// Connection: close, then the body. Throws std::bad_alloc.
std::string response(int status, const char* content_type,
                     const std::string& body);

// The value of `key` in a query string ("a=1&b=2"), or "" (no decoding:
// the observer's values are numbers and words).
std::string query_value(const std::string& query, const char* key);

}  // namespace airs::osl
