#include "soccr/netlock/netlock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "soccr/internal/status_code.h"
#include "soccr/netlock/nft_socket.h"
#include "soccr/status_macros.h"

namespace soccr {
namespace {

using netlock::NftBatch;
using netlock::NftBatchOverhead;
using netlock::NftMessage;
using netlock::NftSocket;

constexpr absl::string_view kTablePrefix = "soccr_lock_";
constexpr size_t kIdLength = 16;
constexpr size_t kMaxNote = 64;
// Stored in the table's user data (at most NFT_USERDATA_MAXLEN, 256 bytes)
// so that List() needs no set dump: "soccr-lock/1 scope=... n=... pid=...
// t=... note=...".
constexpr absl::string_view kUserdataMagic = "soccr-lock/1";

// Before connection tracking (-200) and every filter table (0): a locked
// packet costs nothing further, and conntrack never sees a segment that
// would make it mark the flow invalid.
constexpr int kChainPriority = -300;

// Element lists are cut into messages of at most this many bytes.
constexpr size_t kElementMessageRoom = 60 << 10;

// nftables' userspace type ids (nft's datatype.h), so that `nft list
// ruleset` shows the sets' keys as "ipv4_addr . inet_service . ...".
constexpr uint32_t kTypeIpv4Addr = 7;
constexpr uint32_t kTypeIpv6Addr = 8;
constexpr uint32_t kTypeInetService = 13;
constexpr uint32_t kTypeBits = 6;  // nft's TYPE_BITS
constexpr uint32_t ConcatType(uint32_t addr) {
  return (((addr << kTypeBits | kTypeInetService) << kTypeBits | addr)
          << kTypeBits) |
         kTypeInetService;
}

// Concatenated keys: each component in its own 32-bit registers, a port's
// two bytes followed by two zero bytes (nft_payload zero-pads a short
// load into a register, so the stored keys must be padded the same way).
constexpr uint32_t kKeyLen4 = 4 + 4 + 4 + 4;
constexpr uint32_t kKeyLen6 = 16 + 4 + 16 + 4;

struct Family {
  const char* set;  // "keys4"
  uint8_t nfproto;  // NFPROTO_IPV4
  uint32_t addr_offset_src;
  uint32_t addr_offset_dst;
  uint32_t addr_len;
  uint32_t key_len;
  uint32_t key_type;
  uint32_t set_id;
};
const Family kV4 = {
    "keys4", NFPROTO_IPV4, 12, 16, 4, kKeyLen4, ConcatType(kTypeIpv4Addr), 1};
const Family kV6 = {
    "keys6", NFPROTO_IPV6, 8, 24, 16, kKeyLen6, ConcatType(kTypeIpv6Addr), 2};

struct TableFree {
  void operator()(nftnl_table* t) const { nftnl_table_free(t); }
};
struct SetFree {
  void operator()(nftnl_set* s) const { nftnl_set_free(s); }
};
struct ChainFree {
  void operator()(nftnl_chain* c) const { nftnl_chain_free(c); }
};
struct RuleFree {
  void operator()(nftnl_rule* r) const { nftnl_rule_free(r); }
};

// One connection's key in the set's layout: the peer's address and port,
// then ours (the order of an incoming packet's source and destination).
// Mapped IPv6 addresses are IPv4 on the wire: their last four bytes.
void AppendKey(const ConnectionKey& key, bool v4, std::string* out) {
  auto addr = [&](const SocketAddress& a) {
    if (a.family() == AF_INET) {
      out->append(reinterpret_cast<const char*>(&a.v4().sin_addr), 4);
    } else if (v4) {
      out->append(reinterpret_cast<const char*>(&a.v6().sin6_addr) + 12, 4);
    } else {
      out->append(reinterpret_cast<const char*>(&a.v6().sin6_addr), 16);
    }
  };
  auto port = [&](const SocketAddress& a) {
    const uint16_t p = htons(a.port());
    out->append(reinterpret_cast<const char*>(&p), 2);
    out->append(2, '\0');
  };
  addr(key.peer);
  port(key.peer);
  addr(key.local);
  port(key.local);
}

bool IsV4OnWire(const SocketAddress& a) {
  return a.family() == AF_INET || a.is_v4_mapped();
}

absl::Status CheckKey(const ConnectionKey& k, size_t i) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("lock: connection ", i, " (", k.local.ToString(), "->",
                     k.peer.ToString(), "): ", why));
  };
  if (k.local.empty() || k.peer.empty()) return bad("an address is missing");
  if (k.local.family() != k.peer.family()) {
    return bad("the two addresses are of different families");
  }
  if (IsV4OnWire(k.local) != IsV4OnWire(k.peer)) {
    return bad("one address is IPv4-mapped and the other is not");
  }
  // A connection always has both ports; port 0 never appears on the wire.
  if (k.local.port() == 0 || k.peer.port() == 0) return bad("a port is 0");
  return absl::OkStatus();
}

absl::StatusOr<std::string> NewId() {
  uint8_t raw[kIdLength / 2];
  size_t got = 0;
  while (got < sizeof(raw)) {
    const ssize_t n = ::getrandom(raw + got, sizeof(raw) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return internal::ErrnoStatus(errno, "lock: getrandom");
    }
    got += static_cast<size_t>(n);
  }
  std::string id;
  for (uint8_t b : raw) absl::StrAppend(&id, absl::Hex(b, absl::kZeroPad2));
  return id;
}

absl::Status CheckId(absl::string_view id) {
  const bool ok =
      id.size() == kIdLength && std::all_of(id.begin(), id.end(), [](char c) {
        return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f');
      });
  if (ok) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("lock id \"", absl::CHexEscape(id), "\": not ", kIdLength,
                   " lowercase hex digits (as `soccr locks` prints them)"));
}

std::string EncodeUserdata(const LockInfo& info) {
  return absl::StrCat(kUserdataMagic, " scope=", LockScopeName(info.scope),
                      " n=", info.connections, " pid=", info.pid,
                      " t=", absl::ToUnixSeconds(info.created),
                      " note=", info.note);
}

// Fills `info` from a table's user data; false if it is not ours.
bool DecodeUserdata(absl::string_view data, LockInfo* info) {
  if (!absl::ConsumePrefix(&data, kUserdataMagic)) return false;
  const size_t note_at = data.find(" note=");
  const absl::string_view head = data.substr(0, note_at);
  if (note_at != absl::string_view::npos) {
    info->note = std::string(data.substr(note_at + 6));
  }
  for (absl::string_view field : absl::StrSplit(head, ' ', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(field, absl::MaxSplits('=', 1));
    int64_t n = 0;
    if (kv.first == "scope") {
      info->scope = kv.second == "namespace" ? LockScope::kNamespace
                                             : LockScope::kConnections;
    } else if (kv.first == "n" && absl::SimpleAtoi(kv.second, &n)) {
      info->connections = static_cast<uint64_t>(n);
    } else if (kv.first == "pid" && absl::SimpleAtoi(kv.second, &n)) {
      info->pid = static_cast<pid_t>(n);
    } else if (kv.first == "t" && absl::SimpleAtoi(kv.second, &n)) {
      info->created = absl::FromUnixSeconds(n);
    }
  }
  return true;
}

// --- Message builders -----------------------------------------------------

std::string TableMessage(const std::string& name, uint16_t type, uint16_t flags,
                         const std::string* userdata) {
  std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name.c_str());
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  if (userdata != nullptr) {
    nftnl_table_set_data(t.get(), NFTNL_TABLE_USERDATA, userdata->data(),
                         static_cast<uint32_t>(userdata->size()));
  }
  return NftMessage(type, NFPROTO_INET, flags, [&](nlmsghdr* nlh) {
    nftnl_table_nlmsg_build_payload(nlh, t.get());
  });
}

std::string SetMessage(const std::string& table, const Family& f,
                       size_t count) {
  std::unique_ptr<nftnl_set, SetFree> s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, f.set);
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, f.key_len);
  nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, f.key_type);
  nftnl_set_set_u32(s.get(), NFTNL_SET_ID, f.set_id);
  nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, 0);
  if (count > 0) {
    nftnl_set_set_u32(s.get(), NFTNL_SET_DESC_SIZE,
                      static_cast<uint32_t>(count));
  }
  return NftMessage(
      NFT_MSG_NEWSET, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL,
      [&](nlmsghdr* nlh) { nftnl_set_nlmsg_build_payload(nlh, s.get()); });
}

// NEWSETELEM messages holding `keys` (already in the set's layout, each
// f.key_len bytes), each message at most kElementMessageRoom bytes.
std::vector<std::string> ElementMessages(const std::string& table,
                                         const Family& f,
                                         absl::string_view keys) {
  std::vector<std::string> out;
  const size_t per_element = 3 * MNL_ATTR_HDRLEN + MNL_ALIGN(f.key_len);
  const size_t per_message =
      std::max<size_t>(1, (kElementMessageRoom - 256) / per_element);
  const size_t n = keys.size() / f.key_len;
  for (size_t first = 0; first < n; first += per_message) {
    const size_t count = std::min(per_message, n - first);
    out.push_back(NftMessage(
        NFT_MSG_NEWSETELEM, NFPROTO_INET, NLM_F_CREATE,
        [&](nlmsghdr* nlh) {
          mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
          mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, f.set);
          mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(f.set_id));
          nlattr* list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
          for (size_t i = first; i < first + count; ++i) {
            nlattr* elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
            nlattr* key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
            mnl_attr_put(nlh, NFTA_DATA_VALUE, f.key_len,
                         keys.data() + i * f.key_len);
            mnl_attr_nest_end(nlh, key);
            mnl_attr_nest_end(nlh, elem);
          }
          mnl_attr_nest_end(nlh, list);
        },
        kElementMessageRoom));
  }
  return out;
}

std::string ChainMessage(const std::string& table, const char* name,
                         uint32_t hook) {
  std::unique_ptr<nftnl_chain, ChainFree> c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, name);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, hook);
  nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, kChainPriority);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, "filter");
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, NF_ACCEPT);
  return NftMessage(
      NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE | NLM_F_EXCL,
      [&](nlmsghdr* nlh) { nftnl_chain_nlmsg_build_payload(nlh, c.get()); });
}

// A rule under construction.
class Rule {
 public:
  Rule(const std::string& table, const char* chain) : r_(nftnl_rule_alloc()) {
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(r_.get(), NFTNL_RULE_CHAIN, chain);
    nftnl_rule_set_u32(r_.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  }

  // reg = meta KEY
  Rule& Meta(uint32_t key, uint32_t reg) {
    nftnl_expr* e = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, reg);
    nftnl_rule_add_expr(r_.get(), e);
    return *this;
  }
  // reg == data, or the rule stops here.
  Rule& CmpEq(uint32_t reg, const void* data, uint32_t len) {
    nftnl_expr* e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, reg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
    nftnl_rule_add_expr(r_.get(), e);
    return *this;
  }
  // reg = LEN bytes of the packet at OFFSET from BASE.
  Rule& Payload(uint32_t base, uint32_t offset, uint32_t len, uint32_t reg) {
    nftnl_expr* e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, reg);
    nftnl_rule_add_expr(r_.get(), e);
    return *this;
  }
  // The registers from `reg` are in the set, or the rule stops here.
  Rule& Lookup(uint32_t reg, const Family& f) {
    nftnl_expr* e = nftnl_expr_alloc("lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, reg);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, f.set);
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, f.set_id);
    nftnl_rule_add_expr(r_.get(), e);
    return *this;
  }
  Rule& Verdict(int verdict) {
    nftnl_expr* e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
                       static_cast<uint32_t>(verdict));
    nftnl_rule_add_expr(r_.get(), e);
    return *this;
  }

  std::string Message() const {
    return NftMessage(
        NFT_MSG_NEWRULE, NFPROTO_INET, NLM_F_CREATE | NLM_F_APPEND,
        [&](nlmsghdr* nlh) { nftnl_rule_nlmsg_build_payload(nlh, r_.get()); });
  }

 private:
  std::unique_ptr<nftnl_rule, RuleFree> r_;
};

// meta nfproto F, meta l4proto tcp.
Rule& MatchTcp(Rule& r, const Family* f) {
  if (f != nullptr) {
    r.Meta(NFT_META_NFPROTO, NFT_REG_1).CmpEq(NFT_REG_1, &f->nfproto, 1);
  }
  const uint8_t tcp = IPPROTO_TCP;
  return r.Meta(NFT_META_L4PROTO, NFT_REG_1).CmpEq(NFT_REG_1, &tcp, 1);
}

// peer addr . peer port . local addr . local port @set: the peer is the
// source of what comes in and the destination of what goes out.
std::string KeyRule(const std::string& table, const char* chain, bool input,
                    const Family& f, int verdict) {
  Rule r(table, chain);
  MatchTcp(r, &f);
  const uint32_t addr_regs = f.addr_len / 4;
  const uint32_t peer_addr = input ? f.addr_offset_src : f.addr_offset_dst;
  const uint32_t local_addr = input ? f.addr_offset_dst : f.addr_offset_src;
  const uint32_t peer_port = input ? 0 : 2;
  const uint32_t local_port = input ? 2 : 0;
  uint32_t reg = NFT_REG32_00;
  r.Payload(NFT_PAYLOAD_NETWORK_HEADER, peer_addr, f.addr_len, reg);
  reg += addr_regs;
  r.Payload(NFT_PAYLOAD_TRANSPORT_HEADER, peer_port, 2, reg);
  reg += 1;
  r.Payload(NFT_PAYLOAD_NETWORK_HEADER, local_addr, f.addr_len, reg);
  reg += addr_regs;
  r.Payload(NFT_PAYLOAD_TRANSPORT_HEADER, local_port, 2, reg);
  r.Lookup(NFT_REG32_00, f).Verdict(verdict);
  return r.Message();
}

std::string MarkAcceptRule(const std::string& table, const char* chain) {
  Rule r(table, chain);
  const uint32_t mark = kLockBypassMark;  // meta mark is in host order
  r.Meta(NFT_META_MARK, NFT_REG_1)
      .CmpEq(NFT_REG_1, &mark, sizeof(mark))
      .Verdict(NF_ACCEPT);
  return r.Message();
}

std::string DropAllTcpRule(const std::string& table, const char* chain) {
  Rule r(table, chain);
  MatchTcp(r, nullptr).Verdict(NF_DROP);
  return r.Message();
}

struct Message {
  std::string bytes;
  std::string what;
};

// Builds the lock's messages: `setup` (table, sets, chains: no effect yet),
// `elements`, and `activate` (the rules, which make it bite).
struct LockMessages {
  std::vector<Message> setup;
  std::vector<Message> elements;
  std::vector<Message> activate;
};

LockMessages BuildLock(const std::string& table, const LockInfo& info,
                       absl::Span<const ConnectionKey> keys) {
  LockMessages m;
  const std::string userdata = EncodeUserdata(info);
  m.setup.push_back({TableMessage(table, NFT_MSG_NEWTABLE,
                                  NLM_F_CREATE | NLM_F_EXCL, &userdata),
                     "add table " + table});
  std::string keys4, keys6;
  keys4.reserve(keys.size() * kKeyLen4);
  for (const ConnectionKey& k : keys) {
    const bool v4 = IsV4OnWire(k.local);
    AppendKey(k, v4, v4 ? &keys4 : &keys6);
  }
  for (const Family* f : {&kV4, &kV6}) {
    const std::string& k = f == &kV4 ? keys4 : keys6;
    m.setup.push_back({SetMessage(table, *f, k.size() / f->key_len),
                       absl::StrCat("add set ", f->set)});
    std::vector<std::string> msgs = ElementMessages(table, *f, k);
    for (std::string& e : msgs) {
      m.elements.push_back(
          {std::move(e), absl::StrCat("add elements to set ", f->set)});
    }
  }
  const bool ns = info.scope == LockScope::kNamespace;
  const int key_verdict = ns ? NF_ACCEPT : NF_DROP;
  for (const auto& [chain, hook, input] :
       {std::tuple<const char*, uint32_t, bool>{"input", NF_INET_LOCAL_IN,
                                                true},
        std::tuple<const char*, uint32_t, bool>{"output", NF_INET_LOCAL_OUT,
                                                false}}) {
    m.setup.push_back(
        {ChainMessage(table, chain, hook), absl::StrCat("add chain ", chain)});
    m.activate.push_back(
        {MarkAcceptRule(table, chain), absl::StrCat(chain, " mark rule")});
    for (const Family* f : {&kV4, &kV6}) {
      m.activate.push_back({KeyRule(table, chain, input, *f, key_verdict),
                            absl::StrCat(chain, " rule for ", f->set)});
      // An exemption must pass both hooks, and over loopback a packet
      // meets both on its way: match it the other way round too.
      if (ns) {
        m.activate.push_back(
            {KeyRule(table, chain, !input, *f, key_verdict),
             absl::StrCat(chain, " reverse rule for ", f->set)});
      }
    }
    if (ns) {
      m.activate.push_back(
          {DropAllTcpRule(table, chain), absl::StrCat(chain, " tcp rule")});
    }
  }
  return m;
}

size_t TotalSize(const std::vector<Message>& v) {
  size_t n = 0;
  for (const Message& m : v) n += m.bytes.size();
  return n;
}

absl::Status DeleteTable(NftSocket& sock, const std::string& table,
                         absl::string_view what) {
  NftBatch batch;
  batch.Append(TableMessage(table, NFT_MSG_DELTABLE, 0, nullptr),
               "delete table " + table);
  batch.Seal();
  return sock.Commit(batch, what);
}

// Deletes the lock's table through `sock`, or a new socket if null.
absl::Status UnlockWith(NftSocket* sock, absl::string_view id) {
  SOCCR_RETURN_IF_ERROR(CheckId(id));
  std::optional<NftSocket> own;
  if (sock == nullptr) {
    absl::StatusOr<NftSocket> opened = NftSocket::Open();
    if (!opened.ok()) return opened.status();
    own.emplace(*std::move(opened));
    sock = &*own;
  }
  absl::Status s =
      DeleteTable(*sock, LockTableName(id), absl::StrCat("unlock ", id));
  if (absl::IsNotFound(s)) {
    return absl::NotFoundError(absl::StrCat(
        "unlock ", id, ": no such lock in this network namespace"));
  }
  return s;
}

}  // namespace

std::string LockScopeName(LockScope scope) {
  return scope == LockScope::kNamespace ? "namespace" : "connections";
}

std::string LockTableName(absl::string_view id) {
  return absl::StrCat(kTablePrefix, id);
}

absl::StatusOr<NetworkLock> NetworkLock::Create(
    LockScope scope, absl::Span<const ConnectionKey> keys,
    const LockOptions& options, bool staged) {
  for (size_t i = 0; i < keys.size(); ++i) {
    SOCCR_RETURN_IF_ERROR(CheckKey(keys[i], i));
  }
  if (options.note.size() > kMaxNote ||
      !std::all_of(options.note.begin(), options.note.end(),
                   [](char c) { return c >= 0x20 && c < 0x7f; })) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lock: the note must be at most ", kMaxNote, " printable characters"));
  }
  absl::StatusOr<NftSocket> opened = NftSocket::Open();
  if (!opened.ok()) return opened.status();
  auto sock = std::make_shared<NftSocket>(*std::move(opened));

  LockInfo info;
  info.scope = scope;
  info.connections = keys.size();
  info.pid = ::getpid();
  info.created = absl::Now();
  info.note = options.note;

  // A clash of 64-bit random ids is all but impossible; the table's
  // NLM_F_EXCL turns one into EEXIST, and a new id is drawn.
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<std::string> id = NewId();
    if (!id.ok()) return id.status();
    info.id = *id;
    const std::string table = LockTableName(info.id);
    const std::string what = absl::StrCat(
        "lock ", info.id, " (", LockScopeName(scope), ", ", keys.size(),
        scope == LockScope::kNamespace ? " exempt)" : " connections)");
    LockMessages m = BuildLock(table, info, keys);

    // Pack into as few batches as the socket takes; the rules go in the
    // last one, so the lock bites in a single transaction.
    const size_t limit = sock->max_batch() - NftBatchOverhead();
    std::vector<NftBatch> batches(1);
    size_t used = 0;
    auto add = [&](Message& msg) {
      if (used + msg.bytes.size() > limit && batches.back().messages() > 0) {
        batches.back().Seal();
        batches.emplace_back();
        used = 0;
      }
      used += msg.bytes.size();
      batches.back().Append(msg.bytes, std::move(msg.what));
    };
    for (Message& msg : m.setup) add(msg);
    for (Message& msg : m.elements) add(msg);
    // Staged: the rules in a batch of their own, committed by Activate().
    if (staged || used + TotalSize(m.activate) > limit) {
      batches.back().Seal();
      batches.emplace_back();
      used = 0;
    }
    for (Message& msg : m.activate) add(msg);
    batches.back().Seal();

    const size_t now = staged ? batches.size() - 1 : batches.size();
    absl::Status s;
    for (size_t b = 0; b < now && s.ok(); ++b) {
      s = sock->Commit(batches[b], what);
      if (!s.ok() && b > 0) {
        // The earlier batches built an inactive table: take it away.
        (void)DeleteTable(*sock, table, what);
      }
    }
    if (s.ok()) {
      NetworkLock lock(std::move(info), std::move(sock));
      if (staged) {
        lock.pending_ =
            std::make_shared<netlock::NftBatch>(std::move(batches.back()));
        lock.pending_what_ = what;
      }
      return lock;
    }
    if (absl::IsAlreadyExists(s) && attempt < 3) continue;
    return s;
  }
}

namespace {

// What LockConnections and StageConnections refuse before building
// anything: a connection-scope lock names at least one connection, and
// exemptions only make sense against the whole namespace's drop.
absl::Status CheckConnectionScope(absl::Span<const ConnectionKey> connections,
                                  const LockOptions& options) {
  if (connections.empty()) {
    return absl::InvalidArgumentError("lock: no connections to lock");
  }
  if (!options.exempt.empty()) {
    return absl::InvalidArgumentError(
        "lock: exemptions are for the namespace scope");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<NetworkLock> NetworkLock::StageConnections(
    absl::Span<const ConnectionKey> connections, const LockOptions& options) {
  SOCCR_RETURN_IF_ERROR(CheckConnectionScope(connections, options));
  return Create(LockScope::kConnections, connections, options,
                /*staged=*/true);
}

absl::Status NetworkLock::Activate() {
  if (pending_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", info_.id, ": not staged (active already)"));
  }
  if (!armed_) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", info_.id, ": already removed"));
  }
  absl::Status s = sock_->Commit(*pending_, pending_what_);
  if (s.ok()) pending_.reset();
  return s;
}

absl::StatusOr<NetworkLock> NetworkLock::LockConnections(
    absl::Span<const ConnectionKey> connections, const LockOptions& options) {
  SOCCR_RETURN_IF_ERROR(CheckConnectionScope(connections, options));
  return Create(LockScope::kConnections, connections, options,
                /*staged=*/false);
}

absl::StatusOr<NetworkLock> NetworkLock::LockNamespace(
    const LockOptions& options) {
  return Create(LockScope::kNamespace, options.exempt, options,
                /*staged=*/false);
}

absl::StatusOr<std::vector<LockInfo>> NetworkLock::List() {
  absl::StatusOr<NftSocket> sock = NftSocket::Open();
  if (!sock.ok()) return sock.status();
  std::vector<LockInfo> out;
  absl::Status s = sock->Request(
      NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_DUMP, [](nlmsghdr*) {},
      [&](const nlmsghdr* nlh) {
        std::unique_ptr<nftnl_table, TableFree> t(nftnl_table_alloc());
        if (nftnl_table_nlmsg_parse(nlh, t.get()) < 0) return;
        const char* name = nftnl_table_get_str(t.get(), NFTNL_TABLE_NAME);
        if (name == nullptr) return;
        absl::string_view id = name;
        if (!absl::ConsumePrefix(&id, kTablePrefix) || !CheckId(id).ok()) {
          return;
        }
        LockInfo info;
        info.id = std::string(id);
        uint32_t len = 0;
        const void* data =
            nftnl_table_get_data(t.get(), NFTNL_TABLE_USERDATA, &len);
        if (data != nullptr) {
          (void)DecodeUserdata(
              absl::string_view(static_cast<const char*>(data), len), &info);
        }
        out.push_back(std::move(info));
      },
      "list locks: dump tables");
  if (!s.ok()) return s;
  std::stable_sort(out.begin(), out.end(),
                   [](const LockInfo& a, const LockInfo& b) {
                     return a.created < b.created;
                   });
  return out;
}

absl::StatusOr<NetworkLock> NetworkLock::Find(absl::string_view id) {
  SOCCR_RETURN_IF_ERROR(CheckId(id));
  absl::StatusOr<std::vector<LockInfo>> all = List();
  if (!all.ok()) return all.status();
  for (LockInfo& info : *all) {
    if (info.id == id) return NetworkLock(std::move(info), nullptr);
  }
  return absl::NotFoundError(
      absl::StrCat("lock ", id, ": no such lock in this network namespace"));
}

absl::Status NetworkLock::UnlockById(absl::string_view id) {
  return UnlockWith(nullptr, id);
}

NetworkLock::NetworkLock(LockInfo info, std::shared_ptr<NftSocket> sock)
    : info_(std::move(info)), sock_(std::move(sock)) {}

NetworkLock::NetworkLock(NetworkLock&& other) noexcept
    : info_(std::move(other.info_)),
      sock_(std::move(other.sock_)),
      armed_(other.armed_),
      pending_(std::move(other.pending_)),
      pending_what_(std::move(other.pending_what_)) {
  other.armed_ = false;
}

NetworkLock& NetworkLock::operator=(NetworkLock&& other) noexcept {
  if (this != &other) {
    if (armed_) (void)UnlockWith(sock_.get(), info_.id);
    info_ = std::move(other.info_);
    sock_ = std::move(other.sock_);
    armed_ = other.armed_;
    pending_ = std::move(other.pending_);
    pending_what_ = std::move(other.pending_what_);
    other.armed_ = false;
  }
  return *this;
}

NetworkLock::~NetworkLock() {
  if (armed_) (void)UnlockWith(sock_.get(), info_.id);
}

absl::Status NetworkLock::Unlock() && {
  if (!armed_) return absl::OkStatus();
  absl::Status s = UnlockWith(sock_.get(), info_.id);
  if (s.ok()) armed_ = false;
  return s;
}

std::string NetworkLock::LeaveInPlace() && {
  armed_ = false;
  return info_.id;
}

}  // namespace soccr
