// soccr/netlock/nft_socket.h: a netlink socket to nf_tables, sending
// batches (transactions) and dumps. Internal to //soccr/netlock.
//
//   absl::StatusOr<NftSocket> sock = NftSocket::Open();
//   NftBatch batch;
//   batch.Append(NftMessage(NFT_MSG_NEWTABLE, NFPROTO_INET,
//                           NLM_F_CREATE | NLM_F_EXCL,
//                           [&](nlmsghdr* nlh) {
//                             nftnl_table_nlmsg_build_payload(nlh, table);
//                           }),
//                "add table");
//   batch.Seal();
//   absl::Status s = sock->Commit(batch, "lock");
//
// A batch is one nf_tables transaction: the kernel applies every message in
// it or none. The kernel processes a batch inside sendmsg(), so its answers
// are all queued by the time sendmsg() returns and are read without
// waiting.

#ifndef SOCCR_NETLOCK_NFT_SOCKET_H_
#define SOCCR_NETLOCK_NFT_SOCKET_H_

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

struct mnl_socket;

namespace soccr::netlock {

// One netlink message to nf_tables, built by `build` (libnftnl's
// *_nlmsg_build_payload, or libmnl attributes) after its headers. `room` is
// the most the payload may take.
std::string NftMessage(uint16_t type, uint16_t family, uint16_t flags,
                       const std::function<void(nlmsghdr*)>& build,
                       size_t room = 4096);

// Messages of one transaction, each with NLM_F_ACK, between the batch begin
// and end markers.
class NftBatch {
 public:
  NftBatch();

  // Appends a message (from NftMessage), giving it its sequence number;
  // `what` names it in errors ("add set keys4").
  void Append(absl::string_view message, std::string what);
  // Appends the end marker; nothing can be appended after it.
  void Seal();

  // The messages appended, not counting the begin and end markers.
  size_t messages() const { return descriptions_.size(); }
  // The batch's bytes so far, the markers included.
  absl::string_view bytes() const { return buf_; }
  size_t size() const { return buf_.size(); }
  // The description of the message with sequence number `seq`.
  const std::string& description(uint32_t seq) const;

 private:
  std::string buf_;
  uint32_t first_seq_ = 0;
  uint32_t next_seq_ = 0;
  std::vector<std::string> descriptions_;  // by seq - first_seq_ - 1
  bool sealed_ = false;
};

// The bytes a batch's begin and end markers take.
size_t NftBatchOverhead();

class NftSocket {
 public:
  // A NETLINK_NETFILTER socket, bound, with acknowledgements capped to
  // their headers (an error never echoes a large message back).
  [[nodiscard]] static absl::StatusOr<NftSocket> Open();

  NftSocket(NftSocket&&) noexcept = default;
  NftSocket& operator=(NftSocket&&) noexcept = default;
  ~NftSocket();

  // The largest batch one sendmsg() may carry on this socket: its send
  // buffer, raised as far as net.core.wmem_max allows.
  size_t max_batch() const { return max_batch_; }

  // Sends a sealed batch and checks the kernel's answer to every message.
  // On error nothing of the batch took effect; the status names `what`,
  // the message that failed and the kernel's errno (PermissionDenied for
  // EPERM, NotFound for ENOENT, AlreadyExists for EEXIST, ...).
  [[nodiscard]] absl::Status Commit(const NftBatch& batch,
                                    absl::string_view what);

  // Sends one request (a GET, possibly with NLM_F_DUMP) and calls
  // `on_message` for every answer until the dump ends.
  [[nodiscard]] absl::Status Request(
      uint16_t type, uint16_t family, uint16_t flags,
      const std::function<void(nlmsghdr*)>& build,
      const std::function<void(const nlmsghdr*)>& on_message,
      absl::string_view what);

 private:
  struct Closer {
    void operator()(mnl_socket* s) const;
  };
  explicit NftSocket(mnl_socket* s, size_t max_batch)
      : sock_(s), max_batch_(max_batch) {}

  std::unique_ptr<mnl_socket, Closer> sock_;
  size_t max_batch_ = 0;
  uint32_t seq_ = 0;
};

// The status for a netlink errno: the code follows the errno, the message
// names `what` and the errno's text, with hints for the common ones.
absl::Status NetlinkError(int err, absl::string_view what);

}  // namespace soccr::netlock

#endif  // SOCCR_NETLOCK_NFT_SOCKET_H_
