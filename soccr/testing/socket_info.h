// soccr/testing/socket_info.h: what the kernel says of a socket, read
// directly (not through soccr), for tests to compare soccr's work with.
//
//   EXPECT_EQ(soccr::testing::GetIntOpt(fd, SOL_TCP, TCP_NODELAY), 1);
//   EXPECT_EQ(soccr::testing::TcpInfo(fd).tcpi_state, TCP_ESTABLISHED);

#ifndef SOCCR_TESTING_SOCKET_INFO_H_
#define SOCCR_TESTING_SOCKET_INFO_H_

#include <netinet/tcp.h>

#include "soccr/fd.h"

namespace soccr::testing {

// getsockopt() of an int option: its value, or -errno if the call failed.
int GetIntOpt(BorrowedFd fd, int level, int name);

// getsockopt(TCP_INFO); all zero (tcpi_state 0 is no TCP state) if the
// call failed.
struct tcp_info TcpInfo(BorrowedFd fd);

}  // namespace soccr::testing

#endif  // SOCCR_TESTING_SOCKET_INFO_H_
