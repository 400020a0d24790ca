// net_addr.hpp - airs_addr (net.h) to and from the kernel's sockaddr, and
// its text form. Pure functions: no state, no locks, any thread.
#pragma once

#include <sys/socket.h>

#include <cstddef>

#include "airs/airs.h"

namespace airs {

// Fills *ss from *a; returns the sockaddr's length, 0 for a bad family.
socklen_t addr_to_sockaddr(const airs_addr& a, sockaddr_storage* ss) noexcept;
// Fills *a from a sockaddr of family AF_INET or AF_INET6; false otherwise.
bool addr_from_sockaddr(const sockaddr* sa, airs_addr* a) noexcept;
// "1.2.3.4:80", "[::1]:80", "[fe80::1%2]:80". false: malformed.
bool addr_parse(const char* text, airs_addr* out) noexcept;
// The text form into buf (64 bytes suffice). false: bad family or size.
bool addr_format(const airs_addr& a, char* buf, size_t size) noexcept;

}  // namespace airs
