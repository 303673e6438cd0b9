#include "soccr/migrate/protocol.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "soccr/image/stream.h"
#include "soccr/internal/status_code.h"

namespace soccr::migrate {
namespace {

struct TypeInfo {
  MessageType type;
  char tag[5];
  uint32_t min_len;
  uint32_t max_len;
};

constexpr size_t kHelloFixed = 24;
constexpr size_t kDoneLength = 8 + 5 * 8;
constexpr size_t kImagesLength = 16;

const TypeInfo kTypes[] = {
    {MessageType::kHello, "HELO", kHelloFixed,
     kHelloFixed + (4 + kKeyLength) * kMaxConnections},
    {MessageType::kRestored, "RSTD", 4, 4},
    {MessageType::kFailed, "FAIL", 4, 4 + kMaxFailureText},
    {MessageType::kGo, "GOGO", 0, 0},
    {MessageType::kAbort, "ABRT", 0, 0},
    {MessageType::kDone, "DONE", kDoneLength, kDoneLength},
    {MessageType::kReady, "REDY", 4, 4},
    {MessageType::kImages, "IMGS", kImagesLength, kImagesLength},
};

const TypeInfo& Info(MessageType t) {
  for (const TypeInfo& i : kTypes) {
    if (i.type == t) return i;
  }
  return kTypes[4];
}

void Put16(std::string* s, uint16_t v) {
  for (int i = 0; i < 2; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
void Put32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
void Put64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>(v >> (8 * i)));
}
uint16_t Get16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
uint32_t Get32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
         uint32_t{p[3]} << 24;
}
uint64_t Get64(const uint8_t* p) {
  return uint64_t{Get32(p)} | uint64_t{Get32(p + 4)} << 32;
}

uint64_t Nanos(absl::Duration d) {
  return d < absl::ZeroDuration()
             ? 0
             : static_cast<uint64_t>(absl::ToInt64Nanoseconds(d));
}

absl::Status Bad(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("protocol: ", what));
}

void PutAddress(std::string* s, const SocketAddress& a) {
  char bytes[16] = {};
  if (a.family() == AF_INET) {
    memcpy(bytes, &a.v4().sin_addr, 4);
  } else if (a.family() == AF_INET6) {
    memcpy(bytes, &a.v6().sin6_addr, 16);
  }
  s->append(bytes, 16);
}

uint32_t ScopeOf(const SocketAddress& a) {
  return a.family() == AF_INET6 ? a.v6().sin6_scope_id : 0;
}

void PutKey(std::string* s, const Key& k) {
  Put16(s, k.local.family());
  Put16(s, 0);
  Put16(s, k.local.port());
  Put16(s, k.peer.port());
  Put32(s, ScopeOf(k.local));
  Put32(s, ScopeOf(k.peer));
  PutAddress(s, k.local);
  PutAddress(s, k.peer);
}

// One canonical form only (the fuzzer's round trip holds us to it): a
// known family, zeros where the family has no bytes, no port 0 (no
// connection has one, and a lock refuses it).
absl::StatusOr<Key> GetKey(const uint8_t* p, uint32_t i) {
  const uint16_t family = Get16(p);
  const uint16_t lport = Get16(p + 4), pport = Get16(p + 6);
  const uint32_t lscope = Get32(p + 8), pscope = Get32(p + 12);
  const uint8_t* la = p + 16;
  const uint8_t* pa = p + 32;
  if (Get16(p + 2) != 0)
    return Bad(absl::StrCat("HELO: key ", i, ": reserved field not 0"));
  if (lport == 0 || pport == 0)
    return Bad(absl::StrCat("HELO: key ", i, ": port 0"));
  Key k;
  if (family == AF_INET) {
    static const uint8_t zeros[12] = {};
    if (lscope != 0 || pscope != 0 || memcmp(la + 4, zeros, 12) != 0 ||
        memcmp(pa + 4, zeros, 12) != 0) {
      return Bad(absl::StrCat("HELO: key ", i, ": IPv4 with IPv6 fields"));
    }
    uint32_t l = 0, r = 0;
    memcpy(&l, la, 4);
    memcpy(&r, pa, 4);
    k.local = SocketAddress::V4(ntohl(l), lport);
    k.peer = SocketAddress::V4(ntohl(r), pport);
  } else if (family == AF_INET6) {
    k.local = SocketAddress::V6(absl::MakeConstSpan(la, 16), lport, 0, lscope);
    k.peer = SocketAddress::V6(absl::MakeConstSpan(pa, 16), pport, 0, pscope);
  } else {
    return Bad(absl::StrCat("HELO: key ", i, ": address family ", family));
  }
  return k;
}

bool IsSocket(BorrowedFd fd) {
  struct stat st = {};
  return ::fstat(fd.get(), &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

const char* MessageTypeName(MessageType type) { return Info(type).tag; }

std::string EncodeMessage(const Message& m) {
  std::string payload;
  switch (m.type) {
    case MessageType::kHello:
      Put16(&payload, kProtocolVersion);
      Put16(&payload, m.flags);
      Put32(&payload, m.count);
      Put64(&payload, m.session);
      Put64(&payload, m.image_bytes);
      for (uint32_t fd : m.fds) Put32(&payload, fd);
      if (m.flags & kHelloStreamed) {
        for (const Key& k : m.keys) PutKey(&payload, k);
      }
      break;
    case MessageType::kReady:
      Put32(&payload, m.count);
      break;
    case MessageType::kImages:
      Put32(&payload, m.count);
      Put32(&payload, 0);
      Put64(&payload, m.image_bytes);
      break;
    case MessageType::kRestored:
      Put32(&payload, m.count);
      break;
    case MessageType::kFailed:
      Put32(&payload, static_cast<uint32_t>(m.code));
      payload.append(m.text.substr(0, kMaxFailureText));
      break;
    case MessageType::kGo:
    case MessageType::kAbort:
      break;
    case MessageType::kDone:
      Put32(&payload, m.count);
      Put32(&payload, 0);
      for (absl::Duration d : {m.times.lock, m.times.restore, m.times.takeover,
                               m.times.resume, m.times.unlock}) {
        Put64(&payload, Nanos(d));
      }
      break;
  }
  std::string out(Info(m.type).tag, 4);
  Put32(&out, static_cast<uint32_t>(payload.size()));
  return out + payload;
}

absl::StatusOr<std::pair<MessageType, uint32_t>> DecodeHeader(
    absl::Span<const uint8_t> header) {
  if (header.size() != kHeaderLength) return Bad("short header");
  const uint32_t len = Get32(header.data() + 4);
  for (const TypeInfo& i : kTypes) {
    if (memcmp(header.data(), i.tag, 4) != 0) continue;
    if (len < i.min_len || len > i.max_len) {
      return Bad(absl::StrCat(i.tag, " with a ", len,
                              "-byte payload (allowed: ", i.min_len, "..",
                              i.max_len, ")"));
    }
    return std::make_pair(i.type, len);
  }
  return Bad(absl::StrCat("unknown message type \"",
                          absl::CHexEscape(absl::string_view(
                              reinterpret_cast<const char*>(header.data()), 4)),
                          "\""));
}

absl::StatusOr<Message> DecodePayload(MessageType type,
                                      absl::Span<const uint8_t> p) {
  const TypeInfo& info = Info(type);
  if (p.size() < info.min_len || p.size() > info.max_len) {
    return Bad(absl::StrCat(info.tag, ": payload of ", p.size(), " bytes"));
  }
  Message m;
  m.type = type;
  switch (type) {
    case MessageType::kHello: {
      const uint16_t version = Get16(p.data());
      if (version != kProtocolVersion) {
        return absl::UnimplementedError(
            absl::StrCat("protocol: the other side speaks version ", version,
                         ", this one ", kProtocolVersion));
      }
      m.flags = Get16(p.data() + 2);
      if ((m.flags & ~kHelloStreamed) != 0) return Bad("HELO: unknown flags");
      const bool streamed = (m.flags & kHelloStreamed) != 0;
      m.count = Get32(p.data() + 4);
      m.session = Get64(p.data() + 8);
      m.image_bytes = Get64(p.data() + 16);
      if (m.count == 0 || m.count > kMaxConnections) {
        return Bad(absl::StrCat("HELO: ", m.count, " connections"));
      }
      const size_t per = streamed ? 4 + kKeyLength : 4;
      if (p.size() != kHelloFixed + per * size_t{m.count}) {
        return Bad(absl::StrCat("HELO: ", m.count, " connections in a ",
                                p.size(), "-byte payload"));
      }
      if (streamed && m.image_bytes != 0) {
        return Bad("HELO: streamed, with an image length");
      }
      m.fds.reserve(m.count);
      for (uint32_t i = 0; i < m.count; ++i) {
        m.fds.push_back(Get32(p.data() + kHelloFixed + 4 * i));
      }
      if (streamed) {
        m.keys.reserve(m.count);
        const uint8_t* keys = p.data() + kHelloFixed + 4 * size_t{m.count};
        for (uint32_t i = 0; i < m.count; ++i) {
          absl::StatusOr<Key> k = GetKey(keys + kKeyLength * i, i);
          if (!k.ok()) return k.status();
          m.keys.push_back(*std::move(k));
        }
      }
      break;
    }
    case MessageType::kReady:
      m.count = Get32(p.data());
      break;
    case MessageType::kImages:
      m.count = Get32(p.data());
      if (Get32(p.data() + 4) != 0) return Bad("IMGS: reserved field not 0");
      m.image_bytes = Get64(p.data() + 8);
      if (m.count == 0 || m.count > kMaxConnections) {
        return Bad(absl::StrCat("IMGS: ", m.count, " connections"));
      }
      break;
    case MessageType::kRestored:
      m.count = Get32(p.data());
      break;
    case MessageType::kFailed: {
      const uint32_t code = Get32(p.data());
      if (code == 0 || code > 16) {
        return Bad(absl::StrCat("FAIL: status code ", code));
      }
      m.code = static_cast<absl::StatusCode>(code);
      m.text.assign(reinterpret_cast<const char*>(p.data()) + 4, p.size() - 4);
      break;
    }
    case MessageType::kGo:
    case MessageType::kAbort:
      break;
    case MessageType::kDone: {
      m.count = Get32(p.data());
      if (Get32(p.data() + 4) != 0) return Bad("DONE: reserved field not 0");
      absl::Duration* d[] = {&m.times.lock, &m.times.restore, &m.times.takeover,
                             &m.times.resume, &m.times.unlock};
      for (int i = 0; i < 5; ++i) {
        const uint64_t ns = Get64(p.data() + 8 + 8 * i);
        // A phase longer than a day is not a measurement.
        if (ns > uint64_t{86400} * 1000000000) return Bad("DONE: bad time");
        *d[i] = absl::Nanoseconds(static_cast<int64_t>(ns));
      }
      break;
    }
  }
  return m;
}

absl::StatusOr<Message> ReadMessage(BorrowedFd fd, absl::Time deadline) {
  std::string buf;
  absl::Status s =
      ReadStreamBytes(fd, kHeaderLength, deadline, "protocol", &buf);
  if (!s.ok()) {
    if (absl::IsDataLoss(s) && buf.empty()) {
      return absl::UnavailableError(
          "protocol: the other side closed the connection");
    }
    return s;
  }
  absl::StatusOr<std::pair<MessageType, uint32_t>> h = DecodeHeader(
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(buf.data()), 8));
  if (!h.ok()) return h.status();
  std::string payload;
  if (absl::Status ps = ReadStreamBytes(
          fd, h->second, deadline,
          absl::StrCat("protocol: ", MessageTypeName(h->first)), &payload);
      !ps.ok()) {
    return ps;
  }
  return DecodePayload(
      h->first,
      absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(payload.data()),
                          payload.size()));
}

absl::Status WriteAllBytes(BorrowedFd fd, absl::string_view bytes,
                           absl::Time deadline) {
  const bool sock = IsSocket(fd);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        sock ? ::send(fd.get(), bytes.data() + done, bytes.size() - done,
                      MSG_NOSIGNAL | MSG_DONTWAIT)
             : ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) {
        return absl::DeadlineExceededError(
            "protocol: timed out writing to the other side");
      }
      struct pollfd p = {fd.get(), POLLOUT, 0};
      const int ms = deadline == absl::InfiniteFuture()
                         ? -1
                         : static_cast<int>(std::min<int64_t>(
                               absl::ToInt64Milliseconds(left) + 1, 1 << 30));
      (void)::poll(&p, 1, ms);
      continue;
    }
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
      return absl::UnavailableError(
          "protocol: the other side closed the connection");
    }
    return internal::ErrnoStatus(errno, "protocol: write");
  }
  return absl::OkStatus();
}

absl::Status WriteMessage(BorrowedFd fd, const Message& m,
                          absl::Time deadline) {
  return WriteAllBytes(fd, EncodeMessage(m), deadline);
}

}  // namespace soccr::migrate
